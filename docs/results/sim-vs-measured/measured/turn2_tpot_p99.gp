set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/sim-vs-measured/measured/turn2_tpot_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'ppd'
0.3 6.256495346666642
0.8 7.170135420190569
e
0.3 7.935280033810378
0.8 12.443967783118284
e
