set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d-slo/turn2_tpot_p99.png'
set title 'turn latency by policy (medians)'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'split-0.5', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd', '-' using 1:2 with linespoints title 'ppd-slo'
0.4 13.798392848666605
1 15.874011523180078
2 28.531510681121365
e
0.4 12.425563596995165
1 15.88942435599984
2 29.92992088666673
e
0.4 15.851190158479195
1 25.481199544285623
2 35.96071456999999
e
0.4 14.820401169143278
1 22.228551848570987
2 36.14490416434127
e
0.4 15.945476824700352
1 24.00622023257158
2 39.04730447228574
e
0.4 15.294160717142343
1 21.72190508733332
2 34.977796390666654
e
0.4 14.4677825588949
1 18.78046263133335
2 36.179713584190374
e
