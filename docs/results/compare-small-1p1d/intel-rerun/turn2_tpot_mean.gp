set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/intel-rerun/turn2_tpot_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 12.094001684505328
0.8 14.749678063036695
2 32.71127636485068
e
0.3 12.381202811387558
0.8 15.572903657116578
2 30.15076417340751
e
0.3 11.977978062846791
0.8 14.773683687153566
2 40.421616860345424
e
0.3 11.624851672312218
0.8 14.877114033333465
2 37.22014870150743
e
0.3 11.895293910431592
0.8 15.338120704912205
2 31.452186649010518
e
