set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/sim-vs-measured/measured/turn2_ttft_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'ppd'
0.3 607.7190590999999
0.8 722.9308087100042
e
0.3 587.4302544899929
0.8 587.9841497100006
e
