import { type Tensor, checkTensor } from "../core/tensor.ts";
import { withScratch } from "../core/heap.ts";
import { fail } from "../core/errors.ts";
import { checkProduct } from "./overflow.ts";
import { KERNEL_SLACK } from "./scale.ts";

/**
 * Y = X·U·V (+ bias) without forming U·V: x [m, k], u [k, r], v [r, n], bias [n].
 * Two GEMMs (X·U, then ·V) cost 2·r·(m·k + m·n) FLOPs instead of 2·m·k·n for the dense W = U·V.
 */
export function lowRankMatmul(x: Tensor, u: Tensor, v: Tensor, bias?: Tensor): Tensor {
  const where = "lowRankMatmul";
  checkTensor(where, "x", x, 2);
  checkTensor(where, "u", u, 2);
  checkTensor(where, "v", v, 2);
  const [m, k] = x.shape;
  const [ku, r] = u.shape;
  const [rv, n] = v.shape;
  if (ku !== k) {
    fail(where, `u has shape [${u.shape}] but x [${x.shape}] needs u of shape [${k}, r] (u's rows must equal x's columns, ${k})`);
  }
  if (rv !== r) {
    fail(where, `v has shape [${v.shape}] but u [${u.shape}] needs v of shape [${r}, n] (v's rows must equal u's columns, the rank ${r})`);
  }
  if (bias !== undefined && bias !== null) {
    checkTensor(where, "bias", bias);
    if (bias.shape.length !== 1 || bias.shape[0] !== n) {
      fail(where, `bias has shape [${bias.shape}] but v [${v.shape}] needs a bias of shape [${n}] (one value per output column) or none`);
    }
  }
  return withScratch((s) => {
    s.need(4 * (x.data.length + u.data.length + v.data.length + n + m * r + m * n) + KERNEL_SLACK, where, `x·u·v for x ${m}×${k}, rank ${r}, ${n} outputs (inputs, the ${m}×${r} intermediate and the ${m}×${n} output)`);
    const px = s.put(x.data, where, "x");
    const pu = s.put(u.data, where, "u");
    const pv = s.put(v.data, where, "v");
    const pb = bias ? s.put(bias.data, where, "bias") : 0;
    const py = s.f32(m * n);
    if (s.k.lowrank_matmul_f32(m, n, k, r, px, pu, pv, pb, py) !== 0) {
      fail(where, `out of wasm memory for the ${m}×${r} intermediate x·u`);
    }
    checkProduct(s, where, py, m, n);
    return { data: s.take(py, m * n), shape: [m, n] };
  });
}
