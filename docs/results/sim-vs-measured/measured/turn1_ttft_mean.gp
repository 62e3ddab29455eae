set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/sim-vs-measured/measured/turn1_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 1 TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'ppd'
0.3 226.30051656896472
0.8 270.28344818965496
e
0.3 226.84825308620697
0.8 229.27939624137943
e
