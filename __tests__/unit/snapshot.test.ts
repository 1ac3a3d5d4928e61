/**
 * One snapshot per environment stack (and one bootstrap stack): a reviewer sees the whole effect of a
 * config or construct change in the snapshot diff. Checkout paths are masked; nothing else is volatile.
 * Update deliberately with `npx jest __tests__/unit/snapshot.test.ts -u` and review the diff.
 */
import { committedEnvironments, masked, synthBootstrap, synthEnvironment } from "../helpers/stacks";

const envs = committedEnvironments();

describe.each(envs.map((e) => [e.name, e] as const))("%s", (_name, config) => {
  it("environment stack", () => {
    expect(masked(synthEnvironment(config))).toMatchSnapshot();
  });
});

it("bootstrap stack (dev)", () => {
  expect(masked(synthBootstrap(envs[0]))).toMatchSnapshot();
});
