set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/turn1_ttft_mean.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 1 TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 277.10472771428607
0.8 319.0747068571431
2 752.3364675714287
e
0.3 243.34218507142936
0.8 278.81593000000004
2 654.2926474285715
e
0.3 246.5444123571433
0.8 252.96445924999927
2 336.7136860357144
e
0.3 250.70797014285682
0.8 253.57069610714274
2 374.01527764285703
e
0.3 245.31261667857024
0.8 247.78824364285688
2 303.7215079285715
e
