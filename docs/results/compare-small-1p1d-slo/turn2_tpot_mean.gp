set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d-slo/turn2_tpot_mean.png'
set title 'turn latency by policy (medians)'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'split-0.5', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd', '-' using 1:2 with linespoints title 'ppd-slo'
0.4 9.088062009782877
1 12.189516974594936
2 17.31303545877513
e
0.4 9.05201711706571
1 12.338258515369787
2 18.059279889049822
e
0.4 9.80530925582042
1 14.262839132270484
2 20.741401044248466
e
0.4 9.241649757450714
1 13.302918263104731
2 20.450324071797755
e
0.4 9.49975495709931
1 14.053009900415486
2 22.517673861044276
e
0.4 9.844540091557972
1 13.89419571676217
2 22.805958717130306
e
0.4 9.370985148243966
1 13.03579837392546
2 20.92317673608725
e
