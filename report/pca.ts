/**
 * Principal component analysis for the report's 2-D view of the latent space: the covariance of
 * the posterior means (a small D × D matrix, D = latent size) and its eigenvectors by the cyclic
 * Jacobi method, which is exact to rounding for symmetric matrices and needs no library.
 */

/** Eigenvalues (descending) and unit eigenvectors of a symmetric matrix. */
export interface SymmetricEigen {
  /** [D] eigenvalues, largest first. */
  values: Float64Array;
  /** [D, D] row k is the unit eigenvector of values[k]; its largest-magnitude entry is > 0. */
  vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric D × D matrix (row-major) by cyclic Jacobi rotations.
 *
 * @example
 * ```ts
 * const { values, vectors } = symmetricEigen(new Float64Array([2, 1, 1, 2]), 2);
 * // values [3, 1]; vectors [[0.707, 0.707], [0.707, -0.707]]
 * ```
 */
export function symmetricEigen(matrix: ArrayLike<number>, d: number): SymmetricEigen {
  if (matrix.length !== d * d) {
    throw new Error(`symmetricEigen: ${matrix.length} values are not a ${d} × ${d} matrix`);
  }
  const a = Float64Array.from(matrix); // rotated in place towards diagonal
  const v = new Float64Array(d * d); // [D, D] accumulated rotations; column k → eigenvector k
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  const scale = a.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        // Rotation angle that zeroes a[p][q] (Numerical Recipes' stable form).
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) { // columns p, q of A·J
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) { // rows p, q of Jᵀ·A
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: d }, (_, k) => k).sort((x, y) => a[y * d + y] - a[x * d + x]);
  const values = Float64Array.from(order, (k) => a[k * d + k]);
  const vectors = new Float64Array(d * d);
  order.forEach((k, row) => {
    let big = 0;
    for (let i = 0; i < d; i++) if (Math.abs(v[i * d + k]) > Math.abs(big)) big = v[i * d + k];
    const sign = big < 0 ? -1 : 1; // a fixed sign, so plots do not flip between runs
    for (let i = 0; i < d; i++) vectors[row * d + i] = sign * v[i * d + k];
  });
  return { values, vectors };
}

/** A fitted PCA: project with `projectPca`. */
export interface Pca {
  /** [D] mean of the fitted rows. */
  mean: Float64Array;
  /** [K, D] principal axes, unit length, by decreasing variance. */
  components: Float64Array;
  /** [K] variance along each axis (population covariance, divided by N). */
  explainedVariance: Float64Array;
  /** Total variance (trace of the covariance), for the explained fraction. */
  totalVariance: number;
  dim: number;
}

/**
 * Fit a K-component PCA to N rows of D values (row-major).
 *
 * @example
 * ```ts
 * const pca = fitPca(posteriorMeans, n, 16); // 2 components
 * const xy = projectPca(pca, posteriorMeans); // [N, 2]
 * ```
 */
export function fitPca(x: ArrayLike<number>, n: number, d: number, k = 2): Pca {
  if (n < 1 || x.length !== n * d) {
    throw new Error(`fitPca: ${x.length} values are not ${n} rows of ${d}`);
  }
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += x[r * d + c] / n;
  const cov = new Float64Array(d * d); // [D, D]
  const row = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < d; c++) row[c] = x[r * d + c] - mean[c];
    for (let p = 0; p < d; p++) for (let q = p; q < d; q++) cov[p * d + q] += row[p] * row[q] / n;
  }
  for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) cov[p * d + q] = cov[q * d + p];
  const { values, vectors } = symmetricEigen(cov, d);
  const kk = Math.min(k, d);
  let total = 0;
  for (let c = 0; c < d; c++) total += cov[c * d + c];
  return {
    mean,
    components: vectors.slice(0, kk * d),
    explainedVariance: values.slice(0, kk).map((v) => Math.max(0, v)),
    totalVariance: total,
    dim: d,
  };
}

/** Project N rows of D values onto a fitted PCA's axes: [N, K] coordinates. */
export function projectPca(pca: Pca, x: ArrayLike<number>): Float64Array {
  const d = pca.dim;
  const k = pca.components.length / d;
  const n = x.length / d;
  if (!Number.isInteger(n)) throw new Error(`projectPca: ${x.length} values are not rows of ${d}`);
  const out = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (x[r * d + c] - pca.mean[c]) * pca.components[j * d + c];
      out[r * k + j] = s;
    }
  }
  return out;
}
