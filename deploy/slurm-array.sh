#!/bin/bash
# One swarm of a million seeds as a Slurm job array: 8 tasks, task I runs the
# seeds s with s mod 8 == I (faultline reads $SLURM_ARRAY_TASK_ID, minus
# $SLURM_ARRAY_TASK_MIN, so --array=1-8 works too). Submit from a directory on
# a shared file system holding the faultline binary:
#   mkdir -p results && jid=$(sbatch --parsable deploy/slurm-array.sh)
#   sbatch --dependency=afterany:$jid --wrap 'faultline merge -corpus results/corpus.jsonl results/shard-*.jsonl > results/merged.txt'
#SBATCH --job-name=faultline-swarm
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --time=04:00:00
#SBATCH --output=results/slurm-%A_%a.log
set -euo pipefail
PATH="$PWD:$PATH"
# Exit 0 ok, 1 correctness, 2 liveness, 3 crash: the shard ran to its end and
# its results are in its file either way; merge judges the whole.
exec faultline swarm -seeds 1000000 -shards 8 -json-out "results/shard-{shard}.jsonl" -out results/out -corpus results/corpus.jsonl
