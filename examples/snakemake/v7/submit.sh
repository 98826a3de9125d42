#!/bin/sh
# Snakemake's cluster submit command: stores the job script (last argument) as a token, prints its id.
exec ${PICAS:-picas} snakemake-submit "$@"
