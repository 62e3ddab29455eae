set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/sim-vs-measured/measured/turn2_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'ppd'
0.3 248.56639929310154
0.8 267.54136262068954
e
0.3 91.24237579310434
0.8 100.4339265000006
e
