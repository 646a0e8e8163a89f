// Every op's user function. Importing this module defines all op records.
export * from "./op.js";
export * from "./cases.js";
export { asTensor, scalar, type TensorLike } from "./util.js";
export * from "./creation.js";
export * from "./view.js";
export * from "./reduce.js";
export * from "./elementwise.js";
export * from "./binary.js";
export * from "./unary.js";
