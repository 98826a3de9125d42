/**
 * The batch system's job id, stored on claim (REFERENCE.md section 1): the first variable present wins.
 * Returns the field to set, or undefined outside a batch system.
 */
export const JOB_ID_FIELDS = ['dirac_job_id', 'wms_job_id', 'cream_job_id', 'pbs_job_id', 'slurm_job_id'] as const;

export function jobIdFromEnv(env: NodeJS.ProcessEnv = process.env): { field: string; value: string } | undefined {
  if (env.DIRACJOBID) return { field: 'dirac_job_id', value: env.DIRACJOBID };
  if (env.GLITE_WMS_JOBID && env.GLITE_WMS_JOBID.startsWith('http')) return { field: 'wms_job_id', value: env.GLITE_WMS_JOBID };
  if (env.CREAM_JOBID) return { field: 'cream_job_id', value: env.CREAM_JOBID };
  if (env.PBS_JOBID) return { field: 'pbs_job_id', value: env.PBS_JOBID };
  if (env.SLURM_ARRAY_JOB_ID) return { field: 'slurm_job_id', value: `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID ?? ''}` };
  if (env.SLURM_JOB_ID) return { field: 'slurm_job_id', value: env.SLURM_JOB_ID };
  return undefined;
}
