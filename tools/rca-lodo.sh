#!/usr/bin/env bash
# Leave-one-data-set-out check of the investigation's settings: every
# setting below is varied one at a time around the defaults, each variant
# is scored on every RCA set under the alerted protocol, and for each set
# the variant that the OTHER sets prefer (best mean AC@1 without it) is
# reported with that set's own score. A default earns its place when the
# held-out score of the variant the others choose is no better than the
# default's.
#   usage: tools/rca-lodo.sh [SEER] [DATA]   (defaults: bin/seer, ../shared/data/rca)
set -euo pipefail
seer=${1:-bin/seer}
data=${2:-../shared/data/rca}
sets=(nezha-ob changerca petshop sockshop-rcd)
variants=(
  "default|"
  "spread_weight=0.3|  spread_weight: 0.3"
  "spread_weight=0.8|  spread_weight: 0.8"
  "spread_weight=1.0|  spread_weight: 1.0"
  "change_weight=0.1|  change_weight: 0.1"
  "change_weight=0.5|  change_weight: 0.5"
  "floor=2|  floor: 2"
  "floor=5|  floor: 5"
  "lead=30s|  lead: 30s"
  "lead=2m|  lead: 2m"
  "horizon=3m|  horizon: 3m"
  "horizon=10m|  horizon: 10m"
)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/scores.tsv
for v in "${variants[@]}"; do
  name=${v%%|*}; body=${v#*|}
  printf 'investigate:\n%s\n' "$body" > "$tmp/cfg.yaml"
  [ -z "$body" ] && : > "$tmp/cfg.yaml"
  for s in "${sets[@]}"; do
    ac1=$("$seer" eval rca --data "$data/$s" --protocol alerted --feedback=false --json --config "$tmp/cfg.yaml" | jq -r '.["AC@1"]')
    printf '%s\t%s\t%s\n' "$name" "$s" "$ac1" >> "$out"
  done
done
echo "variant	$(IFS=$'\t'; echo "${sets[*]}")	mean"
awk -F'\t' '{v[$1]=1; a[$1,$2]=$3} END {
  n=split("'"${sets[*]}"'", S, " ");
  for (k in v) { line=k; m=0; for (i=1;i<=n;i++) { line=line "\t" sprintf("%.3f", a[k,S[i]]); m+=a[k,S[i]] } print line "\t" sprintf("%.3f", m/n) }
}' "$out" | sort
echo
echo "held out	chosen by the others	held-out AC@1	default's AC@1"
awk -F'\t' '{v[$1]=1; a[$1,$2]=$3} END {
  n=split("'"${sets[*]}"'", S, " ");
  for (i=1;i<=n;i++) { best=""; bs=-1;
    for (k in v) { m=0; for (j=1;j<=n;j++) if (j!=i) m+=a[k,S[j]]; if (m>bs+1e-9 || (m>bs-1e-9 && k=="default")) { bs=m; best=k } }
    printf "%s\t%s\t%.3f\t%.3f\n", S[i], best, a[best,S[i]], a["default",S[i]] }
}' "$out"
