set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d/intel-rerun/turn2_tpot_p99.png'
set title 'turn latency by policy'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TPOT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd'
0.3 18.654820125333487
0.8 20.966851594731267
2 49.14455455399999
e
0.3 20.806317064571296
0.8 26.188421150000043
2 45.332654530666694
e
0.3 14.812913841417405
0.8 25.166301762857383
2 65.09097899266672
e
0.3 21.352883118857083
0.8 23.875315687714274
2 64.71699397828564
e
0.3 21.49117561628606
0.8 21.69926632555905
2 49.84114320695228
e
