set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/intel-rerun/turn1_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 1 TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 283.815590928572
0.8 384.73995514285696
2 533.5012582857142
e
0.3 306.5051011785704
0.8 382.6532793571435
2 558.0359728214286
e
0.3 272.3246963214289
0.8 311.3947234642855
2 434.94402332142846
e
0.3 271.18090592857317
0.8 328.87720067857117
2 386.50717932142845
e
0.3 273.96828242857225
0.8 314.6387761071429
2 382.18199846428575
e
