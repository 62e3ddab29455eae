set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d-slo/turn2_ttft_mean.png'
set title 'turn latency by policy (medians)'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT mean (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'split-0.5', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd', '-' using 1:2 with linespoints title 'ppd-slo'
0.4 430.1261611551726
1 572.48295237931
2 730.8590532586207
e
0.4 214.8743331551719
1 257.79042218965515
2 314.524926086207
e
0.4 60.77245155172473
1 68.33045646551717
2 82.047749051724
e
0.4 149.35722656896579
1 161.01842144827611
2 202.2559044482757
e
0.4 79.65114408620705
1 97.14847846551693
2 112.8010386551725
e
0.4 77.57628565517244
1 77.23625572413793
2 90.8096485862072
e
0.4 94.69450679310341
1 147.7693179999996
2 128.48796343103436
e
