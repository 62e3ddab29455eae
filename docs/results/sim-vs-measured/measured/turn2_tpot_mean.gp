set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/sim-vs-measured/measured/turn2_tpot_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'ppd'
0.3 4.6706681920222985
0.8 5.153942519293138
e
0.3 5.413284565083906
0.8 5.345910847146433
e
