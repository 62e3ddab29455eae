set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d-slo/turn1_ttft_mean.png'
set title 'turn latency by policy (medians)'
set xlabel 'conversations/s'
set ylabel 'turn 1 TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'split-0.5', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd', '-' using 1:2 with linespoints title 'ppd-slo'
0.4 223.51295418965378
1 278.72249508620666
2 408.34338925862056
e
0.4 210.29545263793068
1 260.626350448276
2 289.76418308620663
e
0.4 210.93023239655105
1 234.95291572413808
2 280.4106526206897
e
0.4 212.58222556896507
1 249.172898965517
2 308.25854236206897
e
0.4 209.97312418965603
1 238.43207849999945
2 287.09893458620695
e
0.4 208.44456962068926
1 230.38134886206916
2 270.72271679310364
e
0.4 200.57384570689578
1 229.02315686206936
2 279.9795947413794
e
