set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/turn2_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 505.221956249999
0.8 605.4755463214286
2 1629.5660688928572
e
0.3 250.28340617857165
0.8 322.51289660714326
2 626.8063262142858
e
0.3 66.30957817857158
0.8 65.79570489285729
2 74.34893500000024
e
0.3 88.15024714285663
0.8 93.70852989285707
2 117.05518082142852
e
0.3 92.88976789285665
0.8 84.26803689285751
2 112.07207246428565
e
