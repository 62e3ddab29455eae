set terminal pngcairo size 800,500 noenhanced
set output 'docs/results/compare-small-1p1d-slo/turn2_ttft_p99.png'
set title 'turn latency by policy (medians)'
set xlabel 'conversations/s'
set ylabel 'turn 2+ TTFT p99 (ms)'
set key top left
set grid
plot '-' using 1:2 with linespoints title 'pd-full', '-' using 1:2 with linespoints title 'pd', '-' using 1:2 with linespoints title 'local', '-' using 1:2 with linespoints title 'split-0.5', '-' using 1:2 with linespoints title 'threshold', '-' using 1:2 with linespoints title 'ppd', '-' using 1:2 with linespoints title 'ppd-slo'
0.4 1194.5467569399993
1 1708.7124385999996
2 1886.4569018799984
e
0.4 582.6078859400016
1 645.5216922100009
2 685.0498022099995
e
0.4 178.4581520100005
1 184.64674992999832
2 198.97857446999848
e
0.4 558.8961853100036
1 504.3234313200024
2 674.2025183599981
e
0.4 273.1728335800005
1 373.4023922
2 493.5507329700002
e
0.4 464.84377361000685
1 188.82842662999812
2 217.83134059000105
e
0.4 471.6325016399961
1 570.8127921899969
2 423.34915222999877
e
