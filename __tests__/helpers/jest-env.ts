// Every test process runs terraform (cdktf's Testing matchers included) with the project's CLI config.
import { terraformEnv } from "../../scripts/lib/toolchain";

Object.assign(process.env, terraformEnv());
