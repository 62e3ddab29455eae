set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/turn2_tpot_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 6.846945257333344
0.8 8.772850150666702
2 11.890465166000066
e
0.3 5.527497724000038
0.8 6.566045612666608
2 8.557096778571417
e
0.3 6.1884668884761735
0.8 11.556578834470042
2 26.810265790571528
e
0.3 5.94918228895239
0.8 11.237296919493089
2 19.343181888952408
e
0.3 6.838865383841278
0.8 11.374730639124428
2 20.29299466161902
e
