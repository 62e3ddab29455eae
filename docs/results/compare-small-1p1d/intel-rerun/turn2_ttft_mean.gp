set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/intel-rerun/turn2_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 532.8274848214293
0.8 670.0079191785716
2 862.3705007499996
e
0.3 318.3262189285716
0.8 435.78839021428564
2 522.8071256428568
e
0.3 93.10178485714472
0.8 90.2595041785715
2 152.26948899999988
e
0.3 116.4861203928568
0.8 129.4414628928569
2 179.98626342857162
e
0.3 90.23250007142876
0.8 121.60354010714299
2 149.87933182142845
e
