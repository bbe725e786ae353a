/** How every caller addresses a pipeline's PipelineDO: one object per (tenant, pipeline), by name. */
export function pipelineStub(env: Env, tenantId: string, pipelineId: string) {
  return env.PIPELINE.get(env.PIPELINE.idFromName(`${tenantId}:${pipelineId}`));
}
