// jax-js peer of the engine bench: one training step (batch 64, Adam, categorical cross-entropy)
// of the same CNN as `vggCnn` (conv3×3·32 ×2, max-pool 2, conv3×3·64 ×2, max-pool 2, Dense 128
// ReLU, Dense 10 softmax) written with @jax-js/jax: `lax.conv` (NCHW), max-pool as a max over
// 2×2 blocks of a reshape, `valueAndGrad` for the gradients and Adam in the same `jit`. jax-js
// has no layers API, so the model is its parameters and this forward function.
import { defaultDevice, init, jit, lax, nn, numpy as np, valueAndGrad, random } from "@jax-js/jax";

type Params = { w: np.Array[]; b: np.Array[] };
type State = { p: Params; m: Params; v: Params };

const CONVS: [number, number][] = [[1, 32], [32, 32], [32, 64], [64, 64]];
const DENSE: [number, number][] = [[64 * 7 * 7, 128], [128, 10]];
const B1 = 0.9, B2 = 0.999, EPS = 1e-7;

function pool(x: np.Array): np.Array {
  const [n, c, h, w] = x.shape;
  return np.max(x.reshape([n, c, h / 2, 2, w / 2, 2]), [3, 5]);
}

function loss(p: Params, x: np.Array, y: np.Array): np.Array {
  let h = x;
  for (let i = 0; i < 4; i++) {
    h = nn.relu(lax.conv(h, p.w[i], [1, 1], "SAME").add(p.b[i].reshape([1, -1, 1, 1])));
    if (i % 2 === 1) h = pool(h);
  }
  h = h.reshape([h.shape[0], -1]);
  h = nn.relu(np.matmul(h, p.w[4]).add(p.b[4]));
  const logits = np.matmul(h, p.w[5]).add(p.b[5]);
  return np.mean(np.sum(nn.logSoftmax(logits, -1).mul(y), -1)).mul(-1);
}

/** A jax-js trainer of the CNN on `device` ("wasm" or "cpu"); step(x, y) runs one Adam step and waits for it. */
export async function jaxCnnTrainer(device: "wasm" | "cpu", lr: number, seed = 0): Promise<{ step(x: Float32Array, y: Float32Array, batch: number): Promise<number>; dispose(): void }> {
  await init(device);
  defaultDevice(device);
  let key = random.key(seed);
  const shapes: number[][] = [...CONVS.map(([ci, co]) => [co, ci, 3, 3]), ...DENSE];
  const w = shapes.map((s) => {
    const [k1, k2] = random.split(key, 2) as unknown as [np.Array, np.Array];
    key = k2;
    const fanIn = s.length === 4 ? s[1] * 9 : s[0];
    return random.normal(k1, s).mul(Math.sqrt(2 / fanIn));
  });
  const bias = (s: number[]) => np.zeros([s.length === 4 ? s[0] : s[1]]);
  const zerosLike = (q: Params): Params => ({ w: q.w.map((a) => np.zeros(a.shape)), b: q.b.map((a) => np.zeros(a.shape)) });
  let state: State = { p: { w, b: shapes.map(bias) }, m: { w: [], b: [] }, v: { w: [], b: [] } };
  state.m = zerosLike(state.p); state.v = zerosLike(state.p);
  key.dispose();
  const update = jit((s: State, x: np.Array, y: np.Array, lrT: np.Array) => {
    const [l, g] = valueAndGrad(loss)({ w: s.p.w.map((a) => a.ref), b: s.p.b.map((a) => a.ref) }, x, y);
    const upd = (p: np.Array, m: np.Array, v: np.Array, gi: np.Array): [np.Array, np.Array, np.Array] => {
      const m2 = m.mul(B1).add(gi.ref.mul(1 - B1));
      const v2 = v.mul(B2).add(gi.ref.mul(gi).mul(1 - B2));
      const p2 = p.sub(m2.ref.mul(lrT.ref).div(np.sqrt(v2.ref).add(EPS)));
      return [p2, m2, v2];
    };
    const out: State = { p: { w: [], b: [] }, m: { w: [], b: [] }, v: { w: [], b: [] } };
    for (const k of ["w", "b"] as const) {
      s.p[k].forEach((p, i) => {
        const [p2, m2, v2] = upd(p, s.m[k][i], s.v[k][i], g[k][i]);
        out.p[k].push(p2); out.m[k].push(m2); out.v[k].push(v2);
      });
    }
    lrT.dispose();
    return [l, out] as [np.Array, State];
  });
  let t = 0;
  return {
    async step(xs: Float32Array, ys: Float32Array, batch: number): Promise<number> {
      t++;
      const lrT = np.array([lr * Math.sqrt(1 - B2 ** t) / (1 - B1 ** t)]).reshape([]);
      const x = np.array(xs).reshape([batch, 28, 28, 1]).transpose([0, 3, 1, 2]);
      const y = np.array(ys).reshape([batch, 10]);
      const [l, next] = update(state, x, y, lrT);
      state = next;
      const v = (await l.data())[0] as number;
      return v;
    },
    dispose() {
      for (const q of [state.p, state.m, state.v]) for (const a of [...q.w, ...q.b]) a.dispose();
      update.dispose();
    },
  };
}
