set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/turn2_tpot_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 4.484473851320094
0.8 5.309636634012518
2 6.363196465625452
e
0.3 4.048497912684626
0.8 4.2911382209363795
2 5.647357000401064
e
0.3 4.504739802115847
0.8 5.386145494253418
2 9.396432634244732
e
0.3 4.087489220445296
0.8 5.241036801039968
2 9.390491892144187
e
0.3 4.528512650804594
0.8 5.221330872194247
2 10.277637846567862
e
