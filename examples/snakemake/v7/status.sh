#!/bin/sh
# Snakemake's cluster status command: prints success, failed or running for a job id.
exec ${PICAS:-picas} snakemake-status "$@"
