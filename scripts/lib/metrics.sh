# shellcheck shell=bash
# Reading a node's figures (sourced). Every function takes the node's base URL
# (http://127.0.0.1:8080), so lab, drill and bench scripts share them whatever they call a node.
#   metrics_value URL NAME [ABSENT]  one unlabelled /metrics sample, as an integer when it is one;
#                                   ABSENT (default empty) when the sample or the node is missing
#   metrics_sum URL PREFIX          sum of every sample whose name (labels included) starts with PREFIX
#   metrics_match URL REGEX         sum of every sample whose name (labels included) matches REGEX
#   status_value URL NAME           a counter or gauge from GET /status (0 when absent): cheaper
#                                   than /metrics, which carries per-MTA series

[ -n "${CMS_LIB_METRICS:-}" ] && return 0
CMS_LIB_METRICS=1

metrics_value() {
  curl -s --max-time 3 "$1/metrics" 2>/dev/null | awk -v n="$2" -v absent="${3-}" '
    $1 == n { v = $2 + 0; if (v == int(v)) printf "%d\n", v; else print $2; found = 1; exit }
    END { if (!found) { if (absent != "") print absent } }'
}

metrics_sum() {
  curl -s --max-time 3 "$1/metrics" 2>/dev/null |
    awk -v p="$2" 'index($1, p) == 1 && $1 !~ /^#/ { s += $2 } END { printf "%d\n", s }'
}

metrics_match() {
  curl -s --max-time 3 "$1/metrics" 2>/dev/null |
    awk -v re="$2" '$1 !~ /^#/ && $1 ~ re { s += $2 } END { printf "%d\n", s }'
}

status_value() {
  curl -s --max-time 3 "$1/status" 2>/dev/null | python3 -c "import sys,json
try: print(int(json.load(sys.stdin).get('counters', {}).get(sys.argv[1], 0)))
except Exception: print('')" "$2"
}
