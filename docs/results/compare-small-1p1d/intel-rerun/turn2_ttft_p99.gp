set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/intel-rerun/turn2_ttft_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 1054.9707113499999
0.8 1407.0184667300007
2 1647.2755103999991
e
0.3 681.9034627500002
0.8 1523.301943079999
2 1048.38837227
e
0.3 256.6649870200027
0.8 241.30594718999572
2 327.3318021899987
e
0.3 370.6668097599984
0.8 611.4943195999992
2 615.9134356900009
e
0.3 326.77639823001095
0.8 455.1111704699993
2 635.6201979400001
e
