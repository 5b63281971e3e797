/*
 * Gray-Scott in the browser: the book's solver, ported to plain JavaScript.
 *
 *   ∂u/∂t = D_u ∇²u − u v² + F (1 − u),   ∂v/∂t = D_v ∇²v + u v² − (F + k) v
 *
 * The scheme is the one of turing_helpers.solver.simulate(method="euler", backend="numpy"):
 * explicit Euler, the periodic 5-point Laplacian, D_u = 2e-5, D_v = 1e-5, float64 fields.
 * The update below performs the same floating-point operations in the same order as
 * turing_helpers.gray_scott.rhs_terms / solver.euler_step, so from the same start the
 * fields agree with numpy to round-off (tests/test_explorer.py checks it).
 *
 * Time step: dt = min(requested dt, DT_SAFETY × the explicit Euler stability limit), the
 * limit being solver.stability_limit ported below. The page clamps; it never runs above it.
 * A run-time guard stops the run when the field becomes non-finite, leaves a sane range or
 * grows a grid-scale checkerboard, and names the step and the limit.
 *
 * No libraries, no network: works opened from file:// and when served.
 * window.grayScott is a small deterministic API for tests (see the end of the file).
 */
(function () {
  "use strict";

  // -- what the package defines (turing_helpers/presets.py, gray_scott.py, data.py, sweep.py)
  const DU = 2e-5;
  const DV = 1e-5;

  // The Well's gray_scott_reaction_diffusion: name -> [F, k], 1/time.
  const WELL_PARAMETERS = {
    gliders: [0.014, 0.054], bubbles: [0.098, 0.057], maze: [0.029, 0.057],
    worms: [0.058, 0.065], spirals: [0.018, 0.051], spots: [0.030, 0.062],
  };

  // Pearson's (1993) classes as transcribed from Munafo's xmorphia pages: name -> [F, k].
  const PEARSON_CLASSES = {
    alpha: [0.010, 0.047], beta: [0.026, 0.051], gamma: [0.022, 0.051],
    delta: [0.030, 0.055], epsilon: [0.018, 0.055], zeta: [0.026, 0.059],
    eta: [0.034, 0.063], theta: [0.038, 0.061], iota: [0.046, 0.0594],
    kappa: [0.050, 0.063], lambda: [0.026, 0.061], mu: [0.046, 0.065],
    nu: [0.054, 0.067], xi: [0.014, 0.047], pi: [0.062, 0.06093],
    rho: [0.090, 0.059], sigma: [0.110, 0.0523],
  };

  const GREEK = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", zeta: "ζ", eta: "η",
    theta: "θ", iota: "ι", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π",
    rho: "ρ", sigma: "σ",
  };

  // Each family of presets runs on its source's grid with its source's time step and start:
  // The Well: 128² on [-1, 1]² (dx = 2/128), dt = 1, Gaussian bumps (data.py);
  // Pearson: 256² on a side of 2.5 (dx = 2.5/256), dt = 1, his central square (sweep.py).
  const GRIDS = {
    well: { n: 128, dx: 2 / 128, dt: 1.0, start: "bumps", label: "The Well" },
    pearson: { n: 256, dx: 2.5 / 256, dt: 1.0, start: "square", label: "Pearson (1993)" },
  };

  // Initial conditions (initial_conditions.py), with a hash instead of numpy's generator so
  // that Python can rebuild them exactly (tests/test_explorer.py does).
  const SQUARE_FRACTION = 20 / 256;  // Pearson's square: 20 of his 256 points per side
  const SQUARE_NOISE = 0.01;         // ±1% uniform noise everywhere (Pearson)
  const BUMP_WIDTH = 0.04;           // Gaussian-bump std, length units (the ConvLSTM chapter's
  //                                    value: 0.04 of the *side* kills gliders and spots)
  const BUMP_COUNT = [3, 8];         // inclusive range of the number of bumps

  // -- time-step policy and run-time guard ----------------------------------------------
  // The page runs at dt = min(requested, DT_SAFETY × limit). The margin covers the running
  // field, which is not a homogeneous state (solver.py also linearises about the cell of
  // largest v after a failure); with 0.95 every preset but σ keeps its source's dt = 1.
  const DT_SAFETY = 0.95;
  // Concentrations stay in [0, 1] in the PDE; explicit Euler may overshoot a little. A value
  // outside (SANE_LOW, SANE_HIGH) or NaN means the run has blown up.
  const SANE_LOW = -0.5;
  const SANE_HIGH = 1.5;
  // solver.py's checkerboard guard: stop once |mean(f (−1)^(i+j))| exceeds NYQUIST_AMPLITUDE
  // and has grown NYQUIST_GROWTH-fold since its smallest value, checked every CHECK_EVERY steps.
  const NYQUIST_AMPLITUDE = 1e-2;
  const NYQUIST_GROWTH = 4.0;
  const CHECK_EVERY = 100;

  // Colours: v on [V_MIN, V_MAX] through viridis (17 samples of matplotlib's map, linearly
  // interpolated to 256 entries).
  const V_MIN = 0.0;
  const V_MAX = 0.5;
  const VIRIDIS_SAMPLES = [
    0x440154, 0x48186a, 0x472d7b, 0x424086, 0x3b528b, 0x33638d, 0x2c728e, 0x26828e, 0x21918c,
    0x1fa088, 0x28ae80, 0x3fbc73, 0x5ec962, 0x84d44b, 0xaddc30, 0xd8e219, 0xfde725,
  ];

  // -- deterministic pseudo-random numbers ----------------------------------------------
  // lowbias32 (C. Wellons): a 32-bit integer hash; Math.imul gives the low 32 bits of the
  // product, as numpy's uint32 multiplication does.
  function hash32(x) {
    x = x >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    return x >>> 0;
  }

  // The hash of (seed, stream, index): hash32((index + (2 seed + stream) · 0x9E3779B9) mod 2³²).
  // Streams: 0 = u's noise, 1 = v's noise, 2 = bump count and centres.
  function randomBits(seed, stream, index) {
    return hash32(index + Math.imul(2 * seed + stream, 0x9e3779b9));
  }

  // A uniform number in [-1, 1): bits / 2³¹ − 1 (exact in float64).
  function uniformSigned(seed, stream, index) {
    return randomBits(seed, stream, index) / 2147483648 - 1;
  }

  // A uniform number in [0, 1): bits / 2³² (exact in float64).
  function uniformUnit(seed, stream, index) {
    return randomBits(seed, stream, index) / 4294967296;
  }

  function checkSeed(seed) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0x3fffffff) {
      throw new Error(`seed must be an integer in [0, 2^30), got ${seed}`);
    }
    return seed;
  }

  // Pearson's start (initial_conditions.pearson_square): (1, 0) with a central square at
  // (1/2, 1/4), ±1% noise on both fields, clipped to [0, 1].
  function pearsonSquare(n, seed) {
    const u = new Float64Array(n * n).fill(1.0);
    const v = new Float64Array(n * n);
    const half = Math.max(1, Math.round(SQUARE_FRACTION * n / 2));
    for (let i = (n >> 1) - half; i < (n >> 1) + half; i++) {
      for (let j = (n >> 1) - half; j < (n >> 1) + half; j++) {
        u[i * n + j] = 0.5;
        v[i * n + j] = 0.25;
      }
    }
    for (let c = 0; c < n * n; c++) {
      u[c] = Math.min(1, Math.max(0, u[c] + SQUARE_NOISE * uniformSigned(seed, 0, c)));
      v[c] = Math.min(1, Math.max(0, v[c] + SQUARE_NOISE * uniformSigned(seed, 1, c)));
    }
    return { u, v };
  }

  // Periodic Gaussian bumps (initial_conditions.gaussian_bumps): v = Σ exp(−d²/2w²) clipped
  // to 1, u = 1 − v, d the distance to the nearest periodic image, w in fractions of the side.
  function gaussianBumps(n, dx, seed) {
    const v = new Float64Array(n * n);
    const width = BUMP_WIDTH / (n * dx);
    const twoWidthSquared = 2 * (width * width);
    const span = BUMP_COUNT[1] - BUMP_COUNT[0] + 1;
    const count = BUMP_COUNT[0] + (randomBits(seed, 2, 0) % span);
    const wrap = (a) => {  // numpy's a % 1.0 - 0.5 for a in (-1, 2): the sign of the divisor
      const r = a % 1.0;
      return (r < 0 ? r + 1.0 : r) - 0.5;
    };
    for (let b = 0; b < count; b++) {
      const centreY = uniformUnit(seed, 2, 1 + 2 * b);
      const centreX = uniformUnit(seed, 2, 2 + 2 * b);
      for (let i = 0; i < n; i++) {
        const dy = wrap(i / n - centreY + 0.5);
        for (let j = 0; j < n; j++) {
          const dxCell = wrap(j / n - centreX + 0.5);
          v[i * n + j] += Math.exp(-(dy * dy + dxCell * dxCell) / twoWidthSquared);
        }
      }
    }
    const u = new Float64Array(n * n);
    for (let c = 0; c < n * n; c++) {
      v[c] = Math.min(1, Math.max(0, v[c]));
      u[c] = 1.0 - v[c];
    }
    return { u, v };
  }

  function initialFields(start, n, dx, seed) {
    checkSeed(seed);
    if (start === "square") return pearsonSquare(n, seed);
    if (start === "bumps") return gaussianBumps(n, dx, seed);
    throw new Error(`start must be "square" or "bumps", got ${start}`);
  }

  // -- linear theory (gray_scott.py) and the stability limit (solver.py) --------------------
  // Homogeneous steady states [(1, 0), (u+, v+), (u−, v−)]; the last two iff F ≥ 4 (F + k)².
  function steadyStates(F, k) {
    const states = [[1.0, 0.0]];
    if (F === 0) return states;
    const discriminant = 1.0 - 4.0 * (F + k) ** 2 / F;
    if (discriminant < 0) return states;
    const root = Math.sqrt(discriminant);
    const roots = root === 0 ? [0.5] : [(1.0 + root) / 2.0, (1.0 - root) / 2.0];
    for (const u of roots) states.push([u, (F + k) / u]);
    return states;
  }

  // Reaction Jacobian ∂(f_u, f_v)/∂(u, v) at (u, v), as [[a, b], [c, d]].
  function jacobian(F, k, u, v) {
    return [[-v * v - F, -2.0 * u * v], [v * v, 2.0 * u * v - (F + k)]];
  }

  // Eigenvalues {re, im} of the real 2 × 2 matrix [[a, b], [c, d]]. The larger-magnitude
  // real root first, the other as det / it, so neither loses digits to cancellation.
  function eigenvalues2x2(a, b, c, d) {
    const half = (a + d) / 2;
    const det = a * d - b * c;
    const disc = half * half - det;
    if (disc < 0) {
      const im = Math.sqrt(-disc);
      return [{ re: half, im }, { re: half, im: -im }];
    }
    const big = half + (half >= 0 ? 1 : -1) * Math.sqrt(disc);
    const small = big !== 0 ? det / big : 0;
    return [{ re: big, im: 0 }, { re: small, im: 0 }];
  }

  // Largest |eigenvalue| of the 5-point Laplacian, the checkerboard's (stencils.py).
  function laplacianSpectralRadius(dx) {
    const c = Math.cos((Math.PI / dx) * dx);
    return -(2.0 * c + 2.0 * c - 4.0) / dx ** 2;
  }

  // solver.stability_limit: the largest dt for which I + dt (J − ρD) does not amplify any
  // grid-scale mode (ρ_max/2 ≤ ρ ≤ ρ_max, 9 samples) about each state: for every eigenvalue
  // μ of J − ρD with Re μ < 0, dt ≤ −2 Re μ / |μ|². The reaction matters: at a v-rich state
  // the substrate is also consumed at rate v² + F. Infinity when nothing constrains dt.
  function stabilityLimit(F, k, dx, states) {
    const rhoMax = laplacianSpectralRadius(dx);
    const rhoStep = (rhoMax - rhoMax / 2) / 8;
    let limit = Infinity;
    for (const [u, v] of states || steadyStates(F, k)) {
      const J = jacobian(F, k, u, v);
      for (let i = 0; i <= 8; i++) {
        const rho = i === 8 ? rhoMax : i * rhoStep + rhoMax / 2;
        const mus = eigenvalues2x2(J[0][0] - rho * DU, J[0][1], J[1][0], J[1][1] - rho * DV);
        for (const mu of mus) {
          if (mu.re < 0) limit = Math.min(limit, -2.0 * mu.re / (mu.re * mu.re + mu.im * mu.im));
        }
      }
    }
    return limit;
  }

  // -- the simulation -------------------------------------------------------------------
  const sim = {
    preset: null, family: null, n: 0, dx: 0, F: 0, k: 0, seed: 0, start: null,
    requestedDt: 1.0, dt: 1.0, limit: Infinity, dtClamped: false,
    u: null, v: null, uNext: null, vNext: null,   // Float64Array(n²), row-major (i = y)
    steps: 0, time: 0, smallestCheckerboard: Infinity,
    running: true, stopped: null,                // stopped: the guard's message, or null
    stepsPerFrame: 20,
  };

  function familyOf(preset) {
    if (preset in WELL_PARAMETERS) return "well";
    if (preset in PEARSON_CLASSES) return "pearson";
    const names = Object.keys(WELL_PARAMETERS).concat(Object.keys(PEARSON_CLASSES));
    throw new Error(`unknown preset ${preset}; choose one of ${names.join(", ")}`);
  }

  // dt = min(requested, DT_SAFETY × limit) for the current F, k and grid.
  function updateTimeStep() {
    sim.limit = stabilityLimit(sim.F, sim.k, sim.dx);
    const allowed = DT_SAFETY * sim.limit;
    sim.dtClamped = sim.requestedDt > allowed;
    sim.dt = sim.dtClamped ? allowed : sim.requestedDt;
  }

  // Start the preset on its source's grid: F, k, dt, the start (its default, or "square" /
  // "bumps") from seed. Leaves running/paused as it was.
  function reset(preset, seed = 0, start = null) {
    const family = familyOf(preset);
    const grid = GRIDS[family];
    const chosenStart = start || grid.start;
    const fields = initialFields(chosenStart, grid.n, grid.dx, seed);
    const [F, k] = (family === "well" ? WELL_PARAMETERS : PEARSON_CLASSES)[preset];
    Object.assign(sim, {
      preset, family, n: grid.n, dx: grid.dx, F, k, seed, start: chosenStart,
      requestedDt: grid.dt, u: fields.u, v: fields.v,
      uNext: new Float64Array(grid.n * grid.n), vNext: new Float64Array(grid.n * grid.n),
      steps: 0, time: 0, stopped: null,
    });
    sim.smallestCheckerboard = checkerboardAmplitude();
    updateTimeStep();
    return summary();
  }

  // New F, k on the current grid and fields; dt is re-clamped to the new limit.
  function setParameters(F, k) {
    for (const [name, value] of [["F", F], ["k", k]]) {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new Error(`${name} must be a finite number >= 0, got ${value}`);
      }
    }
    sim.F = F;
    sim.k = k;
    const table = sim.family === "well" ? WELL_PARAMETERS : PEARSON_CLASSES;
    const same = table[sim.preset] && table[sim.preset][0] === F && table[sim.preset][1] === k;
    if (!same) sim.preset = "custom";
    updateTimeStep();
    return summary();
  }

  // Ask for a time step; the page runs at min(it, DT_SAFETY × limit). Non-positive or
  // non-finite requests are refused (an Error; the time step is unchanged).
  function setRequestedDt(dt) {
    if (typeof dt !== "number" || !Number.isFinite(dt) || dt <= 0) {
      throw new Error(`dt must be a finite number > 0, got ${dt}`);
    }
    sim.requestedDt = dt;
    updateTimeStep();
    return summary();
  }

  // Replace the fields (arrays of n² numbers, row-major), e.g. to test the guard.
  function setFields(u, v) {
    const size = sim.n * sim.n;
    if (u.length !== size || v.length !== size) {
      throw new Error(`u and v must have ${size} values (${sim.n}², row-major)`);
    }
    sim.u = Float64Array.from(u);
    sim.v = Float64Array.from(v);
    sim.stopped = null;
    sim.smallestCheckerboard = checkerboardAmplitude();
  }

  // Add a square of autocatalyst, (u, v) = (1/2, 1/4) as in Pearson's start, centred on cell
  // (row, col), wrapping around the periodic edges; side 0.08 length units.
  function seedAt(row, col) {
    const n = sim.n;
    const side = Math.max(2, Math.round(0.08 / sim.dx));
    const first = -Math.floor(side / 2);
    for (let a = first; a < first + side; a++) {
      for (let b = first; b < first + side; b++) {
        const c = (((row + a) % n + n) % n) * n + (((col + b) % n + n) % n);
        sim.u[c] = 0.5;
        sim.v[c] = 0.25;
      }
    }
  }

  // One explicit Euler step into uNext, vNext, written as the numpy backend computes it:
  //   lap = (north + south + west + east − 4 f) / dx²,  uvv = u v v,
  //   f_u = −uvv + F (1 − u),  f_v = uvv − (F + k) v,  u' = u + dt (D_u lap_u + f_u).
  // Returns the index of the first cell whose new value is NaN or outside the sane range,
  // or −1. (The comparison is written so that NaN fails it.)
  function eulerStep() {
    const n = sim.n;
    const u = sim.u;
    const v = sim.v;
    const uNext = sim.uNext;
    const vNext = sim.vNext;
    const F = sim.F;
    const feedPlusKill = sim.F + sim.k;
    const dt = sim.dt;
    const dxSquared = sim.dx ** 2;
    let firstBad = -1;
    for (let i = 0; i < n; i++) {
      const row = i * n;
      const north = ((i + n - 1) % n) * n;  // np.roll(f, 1, axis=-2)[i] = f[i − 1]
      const south = ((i + 1) % n) * n;
      for (let j = 0; j < n; j++) {
        const west = row + (j === 0 ? n - 1 : j - 1);
        const east = row + (j === n - 1 ? 0 : j + 1);
        const c = row + j;
        const uc = u[c];
        const vc = v[c];
        const lapU = (u[north + j] + u[south + j] + u[west] + u[east] - 4.0 * uc) / dxSquared;
        const lapV = (v[north + j] + v[south + j] + v[west] + v[east] - 4.0 * vc) / dxSquared;
        const uvv = uc * vc * vc;
        const reactionU = -uvv + F * (1.0 - uc);
        const reactionV = uvv - feedPlusKill * vc;
        const uNew = uc + dt * (DU * lapU + reactionU);
        const vNew = vc + dt * (DV * lapV + reactionV);
        uNext[c] = uNew;
        vNext[c] = vNew;
        if (!(uNew > SANE_LOW && uNew < SANE_HIGH && vNew > SANE_LOW && vNew < SANE_HIGH)) {
          if (firstBad < 0) firstBad = c;
        }
      }
    }
    return firstBad;
  }

  // |mean(f (−1)^(i+j))|, the larger of u's and v's: the size of the grid-scale oscillation
  // an unstable explicit step grows (solver.checkerboard_amplitude; n is even here).
  function checkerboardAmplitude() {
    const n = sim.n;
    let largest = 0;
    for (const field of [sim.u, sim.v]) {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) sum += (i + j) % 2 ? -field[i * n + j] : field[i * n + j];
      }
      largest = Math.max(largest, Math.abs(sum / (n * n)));
    }
    return largest;
  }

  // The limit about the running field's own state as well (solver._field_stability_limit):
  // linearised also about the cell of largest v, where the substrate is consumed fastest.
  function fieldStabilityLimit() {
    let peak = 0;
    for (let c = 1; c < sim.v.length; c++) if (sim.v[c] > sim.v[peak]) peak = c;
    const states = steadyStates(sim.F, sim.k).concat([[sim.u[peak], sim.v[peak]]]);
    return stabilityLimit(sim.F, sim.k, sim.dx, states);
  }

  function stop(message) {
    sim.stopped = message;
    sim.running = false;
  }

  function limitsText() {
    return `the explicit Euler limit is dt ≤ ${sim.limit.toPrecision(6)} at the homogeneous ` +
      `states and dt ≤ ${fieldStabilityLimit().toPrecision(6)} at the field's own state ` +
      `(dt = ${sim.dt.toPrecision(6)}, dx = ${sim.dx}, F = ${sim.F}, k = ${sim.k})`;
  }

  // Advance up to count steps; stops early (and pauses) when the guard trips, keeping the
  // last good field. Returns {steps, stopped}.
  function step(count) {
    if (!Number.isInteger(count) || count < 0) {
      throw new Error(`count must be an integer >= 0, got ${count}`);
    }
    for (let s = 0; s < count && !sim.stopped; s++) {
      const bad = eulerStep();
      const stepNumber = sim.steps + 1;
      if (bad >= 0) {
        const row = Math.floor(bad / sim.n);
        const col = bad % sim.n;
        const what = Number.isFinite(sim.uNext[bad]) && Number.isFinite(sim.vNext[bad])
          ? `left the range (${SANE_LOW}, ${SANE_HIGH})` : "became non-finite";
        stop(`Stopped: the field ${what} at step ${stepNumber} (t = ` +
          `${(sim.time + sim.dt).toPrecision(6)}) at cell (${row}, ${col}); ` +
          `${limitsText()}. Shown: the field before that step. Reset to go on.`);
        break;
      }
      [sim.u, sim.uNext] = [sim.uNext, sim.u];
      [sim.v, sim.vNext] = [sim.vNext, sim.v];
      sim.steps = stepNumber;
      sim.time += sim.dt;
      if (sim.steps % CHECK_EVERY === 0) checkGridScale();
    }
    return { steps: sim.steps, stopped: sim.stopped };
  }

  function checkGridScale() {
    const amplitude = checkerboardAmplitude();
    if (amplitude > Math.max(NYQUIST_AMPLITUDE, NYQUIST_GROWTH * sim.smallestCheckerboard)) {
      stop(`Stopped: a grid-scale (checkerboard) oscillation of amplitude ` +
        `${amplitude.toPrecision(3)} is growing at step ${sim.steps} ` +
        `(t = ${sim.time.toPrecision(6)}); ${limitsText()}. Reset to go on.`);
    }
    sim.smallestCheckerboard = Math.min(sim.smallestCheckerboard, amplitude);
  }

  function summary() {
    return {
      preset: sim.preset, family: sim.family, n: sim.n, dx: sim.dx, F: sim.F, k: sim.k,
      Du: DU, Dv: DV, seed: sim.seed, start: sim.start, requestedDt: sim.requestedDt,
      dt: sim.dt, limit: sim.limit, dtClamped: sim.dtClamped, dtSafety: DT_SAFETY,
      steps: sim.steps, time: sim.time, running: sim.running, stopped: sim.stopped,
    };
  }

  // The summary plus the fields as plain arrays (row-major, n² each) unless withFields = false.
  function state(withFields = true) {
    const out = summary();
    if (withFields) {
      out.u = Array.from(sim.u);
      out.v = Array.from(sim.v);
    }
    return out;
  }

  // The fields as base64 strings of their float64 bytes (little-endian on every platform
  // this runs on): exact, and far quicker for a test to read back than arrays of numbers.
  function fieldBytes() {
    const encode = (field) => {
      const bytes = new Uint8Array(field.buffer, field.byteOffset, field.byteLength);
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      return window.btoa(text);
    };
    return { n: sim.n, u: encode(sim.u), v: encode(sim.v) };
  }

  // -- drawing --------------------------------------------------------------------------
  const COLOURS = (function buildLut() {
    const lut = new Uint8Array(256 * 3);
    const last = VIRIDIS_SAMPLES.length - 1;
    for (let i = 0; i < 256; i++) {
      const x = (i / 255) * last;
      const lo = Math.min(Math.floor(x), last - 1);
      const w = x - lo;
      for (let ch = 0; ch < 3; ch++) {
        const shift = 16 - 8 * ch;
        const a = (VIRIDIS_SAMPLES[lo] >> shift) & 255;
        const b = (VIRIDIS_SAMPLES[lo + 1] >> shift) & 255;
        lut[3 * i + ch] = Math.round(a + w * (b - a));
      }
    }
    return lut;
  })();

  let canvas = null;
  let context = null;
  let image = null;

  function draw() {
    if (!context) return;
    if (!image || image.width !== sim.n) {
      canvas.width = sim.n;
      canvas.height = sim.n;
      image = context.createImageData(sim.n, sim.n);
    }
    const pixels = image.data;
    const scale = 255 / (V_MAX - V_MIN);
    for (let c = 0; c < sim.n * sim.n; c++) {
      const level = Math.max(0, Math.min(255, Math.round((sim.v[c] - V_MIN) * scale))) || 0;
      pixels[4 * c] = COLOURS[3 * level];
      pixels[4 * c + 1] = COLOURS[3 * level + 1];
      pixels[4 * c + 2] = COLOURS[3 * level + 2];
      pixels[4 * c + 3] = 255;
    }
    context.putImageData(image, 0, 0);
  }

  // -- the page's controls --------------------------------------------------------------
  const ui = {};
  const byId = (id) => document.getElementById(id);

  function fmt(x, digits) {
    return Number.isFinite(x) ? x.toFixed(digits) : String(x);
  }

  function showInfo() {
    if (!ui.info) return;
    ui.fValue.textContent = fmt(sim.F, 4);
    ui.kValue.textContent = fmt(sim.k, 5);
    if (Number(ui.fSlider.value) !== sim.F) ui.fSlider.value = String(sim.F);
    if (Number(ui.kSlider.value) !== sim.k) ui.kSlider.value = String(sim.k);
    ui.preset.value = sim.preset === "custom" ? "custom" : `${sim.family}:${sim.preset}`;
    ui.pause.textContent = sim.running ? "Pause" : "Resume";
    const grid = GRIDS[sim.family];
    ui.info.textContent = `t = ${fmt(sim.time, 1)} (step ${sim.steps}), ` +
      `dt = ${sim.dt.toPrecision(4)}\ngrid ${sim.n}², dx = ${sim.dx} (${grid.label})`;
    ui.limit.textContent = `Explicit Euler limit for these (F, k) on this grid: dt ≤ ` +
      `${sim.limit.toPrecision(4)}; the page runs at dt = min(requested, ${DT_SAFETY} × limit).`;
    let message = "";
    if (sim.stopped) {
      message = sim.stopped;
    } else if (sim.dtClamped) {
      message = `Requested dt = ${sim.requestedDt} is above ${DT_SAFETY} × the stability ` +
        `limit ${sim.limit.toPrecision(4)}: running at dt = ${sim.dt.toPrecision(4)} instead.`;
    }
    ui.message.textContent = message;
    ui.message.hidden = message === "";
  }

  function fillPresetMenu() {
    const groups = [["well", WELL_PARAMETERS, "The Well: 128², dx = 2/128, Gaussian bumps"],
      ["pearson", PEARSON_CLASSES, "Pearson 1993: 256², dx = 2.5/256, his square"]];
    for (const [family, table, label] of groups) {
      const group = document.createElement("optgroup");
      group.label = label;
      for (const [name, [F, k]] of Object.entries(table)) {
        const option = document.createElement("option");
        option.value = `${family}:${name}`;
        option.textContent = `${GREEK[name] ? GREEK[name] + " " : ""}${name} (F = ${F}, k = ${k})`;
        group.appendChild(option);
      }
      ui.preset.appendChild(group);
    }
    const custom = document.createElement("option");
    custom.value = "custom";
    custom.textContent = "custom (F, k from the sliders)";
    custom.disabled = true;
    ui.preset.appendChild(custom);
  }

  function resetFromControls() {
    const choice = ui.preset.value === "custom" ? null : ui.preset.value.split(":")[1];
    const seed = Math.max(0, Math.min(0x3fffffff, Math.floor(Number(ui.seed.value) || 0)));
    ui.seed.value = String(seed);
    const start = ui.start.value === "default" ? null : ui.start.value;
    const keep = sim.preset === "custom" ? [sim.F, sim.k] : null;
    const requested = sim.requestedDt;
    reset(choice || (sim.family === "well" ? "spots" : "kappa"), seed, start);
    if (keep) setParameters(keep[0], keep[1]);  // a custom (F, k) survives a reset
    if (requested !== GRIDS[sim.family].dt) setRequestedDt(requested);
    ui.dt.value = String(sim.requestedDt);
    showInfo();
    draw();
  }

  function canvasCell(event) {
    const box = canvas.getBoundingClientRect();
    const col = Math.floor(((event.clientX - box.left) / box.width) * sim.n);
    const row = Math.floor(((event.clientY - box.top) / box.height) * sim.n);
    return [Math.min(sim.n - 1, Math.max(0, row)), Math.min(sim.n - 1, Math.max(0, col))];
  }

  function connectControls() {
    Object.assign(ui, {
      preset: byId("preset"), start: byId("start"), seed: byId("seed"), reset: byId("reset"),
      pause: byId("pause"), fSlider: byId("feed"), kSlider: byId("kill"),
      fValue: byId("feed-value"), kValue: byId("kill-value"), speed: byId("speed"),
      speedValue: byId("speed-value"), dt: byId("dt"), info: byId("info"),
      limit: byId("limit"), message: byId("message"),
    });
    fillPresetMenu();
    ui.preset.addEventListener("change", () => {
      sim.requestedDt = GRIDS[familyOf(ui.preset.value.split(":")[1])].dt;
      sim.preset = null;  // a new preset replaces a custom (F, k)
      resetFromControls();
    });
    ui.start.addEventListener("change", resetFromControls);
    ui.reset.addEventListener("click", resetFromControls);
    ui.pause.addEventListener("click", () => {
      if (sim.stopped) return;  // the guard stopped the run: only a reset goes on
      sim.running = !sim.running;
      showInfo();
    });
    const onSlider = () => {
      setParameters(Number(ui.fSlider.value), Number(ui.kSlider.value));
      showInfo();
    };
    ui.fSlider.addEventListener("input", onSlider);
    ui.kSlider.addEventListener("input", onSlider);
    ui.speed.addEventListener("input", () => {
      sim.stepsPerFrame = Number(ui.speed.value);
      ui.speedValue.textContent = ui.speed.value;
    });
    ui.dt.addEventListener("change", () => {
      const requested = Number(ui.dt.value);
      if (Number.isFinite(requested) && requested > 0) {
        setRequestedDt(requested);
      } else {
        ui.dt.value = String(sim.requestedDt);  // refused: keep the old request
      }
      showInfo();
    });
    let seeding = false;
    canvas.addEventListener("pointerdown", (event) => {
      seeding = true;
      canvas.setPointerCapture(event.pointerId);
      seedAt(...canvasCell(event));
      draw();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!seeding) return;
      seedAt(...canvasCell(event));
      draw();
    });
    const endSeeding = () => { seeding = false; };
    canvas.addEventListener("pointerup", endSeeding);
    canvas.addEventListener("pointercancel", endSeeding);
    sim.stepsPerFrame = Number(ui.speed.value);
    ui.speedValue.textContent = ui.speed.value;
  }

  function animate() {
    if (sim.running && !sim.stopped) {
      step(sim.stepsPerFrame);
      draw();
    }
    showInfo();
    window.requestAnimationFrame(animate);
  }

  // -- the API for tests ----------------------------------------------------------------
  window.grayScott = {
    WELL_PARAMETERS, PEARSON_CLASSES, GRIDS, DU, DV, DT_SAFETY,
    reset, step, state, fieldBytes, setParameters, setRequestedDt, setFields, seedAt,
    stabilityLimit, steadyStates, initialFields, hash32,
    pause() { sim.running = false; showInfo(); },
    resume() { if (!sim.stopped) sim.running = true; showInfo(); },
  };

  function main() {
    canvas = byId("field");
    if (!canvas) {  // loaded on a page without the explorer: the API alone
      reset("spots", 0);
      return;
    }
    context = canvas.getContext("2d");
    connectControls();
    reset("spots", 0);
    ui.dt.value = String(sim.requestedDt);
    draw();
    showInfo();
    window.requestAnimationFrame(animate);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", main);
  } else {
    main();
  }
})();
