/**
 * What every environment runs: the release artifact is built once and promoted unchanged, so its
 * identity is shared by all env configs rather than repeated (and drifting) in each.
 */
export const RELEASE = {
  /** The app tier's machine image. */
  imageId: "ami-0a1b2c3d4e5f60718",
  /** The PostgreSQL and Redis engine versions every env runs. */
  postgresVersion: "16",
  redisVersion: "7.1",
} as const;

/** Tags and names common to every environment's resources. */
export const REPOSITORY = "platform/envs-promotion";
