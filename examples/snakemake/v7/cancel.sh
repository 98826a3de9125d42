#!/bin/sh
# Snakemake's cluster cancel command (run without a shell, all ids at once, 2 s limit): waiting jobs are
# withdrawn, running ones stopped by their pilots at the next lease renewal.
exec ${PICAS:-picas} snakemake-cancel "$@"
