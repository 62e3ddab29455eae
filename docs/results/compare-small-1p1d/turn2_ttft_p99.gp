set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/turn2_ttft_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 1383.2628460499986
0.8 1560.8818266700011
2 3241.42978161
e
0.3 574.1122627199996
0.8 708.1123852200002
2 1715.0806031800005
e
0.3 201.33811350000053
0.8 214.96232238000118
2 212.07143165000008
e
0.3 390.951302029999
0.8 413.8631121800005
2 593.5286050600002
e
0.3 503.9248210899989
0.8 403.3484622800001
2 809.4818475100003
e
