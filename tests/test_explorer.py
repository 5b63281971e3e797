"""The in-browser Gray-Scott explorer (book/_static/explorer/) against the package.

The page is plain JavaScript; this test opens it in headless Chromium and checks that

* it runs (animates, changes the field, seeds on a click) with no console or page errors and
  no network request beyond its own folder, served on 127.0.0.1 and opened from file://;
* its presets are the package's (``WELL_PARAMETERS``, ``PEARSON_CLASSES``), exactly, and its
  grids the package's (The Well: 128², dx = 2/128; Pearson: 256², dx = 2.5/256; dt = 1);
* its deterministic initial conditions are rebuilt here in numpy, exactly;
* after N steps its u, v equal ``turing_helpers.solver.simulate`` (numpy backend, explicit
  Euler, 5-point stencil, the same dt and dx) to float32 round-off (the measured difference
  is printed: run with ``-s`` to see it);
* its stability limit is ``solver.stability_limit`` to 1e-9 relative, and it clamps a
  requested dt above it (it runs at min(requested, 0.95 × limit));
* its run-time guard stops a run that blows up and names the step and the limit.

Conventions as in tests/test_book_html.py: Chromium is ``CHROMIUM`` (default
/usr/bin/chromium), driven by Playwright through ``executable_path`` (never
``playwright install``); without Chromium or Playwright the tests are skipped, unless
``REQUIRE_BOOK_HTML=1``, which turns the skip into a failure.

Run: ``python -m pytest -m browser tests/test_explorer.py -v``.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from headless_chromium import launch_chromium, serve

from turing_helpers.data import PatternConfig, TrajectoryConfig
from turing_helpers.gray_scott import GrayScott
from turing_helpers.presets import PEARSON_CLASSES, WELL_PARAMETERS, preset
from turing_helpers.solver import simulate, stability_limit
from turing_helpers.sweep import SweepConfig

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
EXPLORER = REPO / "book" / "_static" / "explorer"
TIMEOUT_MS = 30_000

# The page's deterministic starts, as its gray_scott.js defines them.
SQUARE_FRACTION, SQUARE_NOISE = 20 / 256, 0.01
BUMP_WIDTH, BUMP_COUNT = 0.04, (3, 8)
DT_SAFETY = 0.95

# The package's grids: The Well's (data.py) and Pearson's (sweep.py, whose config needs F, k).
WELL_DX, WELL_DT = TrajectoryConfig().dx, TrajectoryConfig().dt
_SWEEP_DEFAULTS = {f.name: f.default for f in dataclasses.fields(SweepConfig)}
PEARSON_DX, PEARSON_DT = _SWEEP_DEFAULTS["dx"], _SWEEP_DEFAULTS["dt"]


@pytest.fixture(scope="module")
def browser():
    with launch_chromium() as chromium:
        yield chromium


class Explorer:
    """The explorer page in a fresh browser context, with its errors and foreign requests."""

    def __init__(self, browser, url: str, local_prefix: str):
        self.errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.context = browser.new_context(viewport={"width": 900, "height": 760})
        self.context.set_default_timeout(TIMEOUT_MS)

        def route(r):
            if r.request.url.startswith(local_prefix):
                r.continue_()
            else:
                self.foreign_requests.append(r.request.url)
                r.abort()
        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => window.grayScott !== undefined")

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def state(self, with_fields=True):
        """The page's state; with_fields: also u, v as (n, n) float64 arrays, bit for bit."""
        state = self.js("() => window.grayScott.state(false)")
        if with_fields:
            state["u"], state["v"] = _decode(self.js("() => window.grayScott.fieldBytes()"))
        return state

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def served():
    with serve(EXPLORER) as base_url:
        yield base_url


@pytest.fixture
def explorer(browser, served):
    page = Explorer(browser, f"{served}/index.html", served + "/")
    # The animation would interleave with the test's own steps: pause it first.
    page.js("() => window.grayScott.pause()")
    try:
        yield page
    finally:
        assert not page.errors, page.errors
        page.close()


# --------------------------------------------------------------------------- numpy twins
def _hash32(x: np.ndarray) -> np.ndarray:
    """lowbias32, as gray_scott.js's hash32 (uint32 arithmetic wraps like Math.imul)."""
    x = np.asarray(x, dtype=np.uint32).copy()
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x7FEB352D)
    x ^= x >> np.uint32(15)
    x *= np.uint32(0x846CA68B)
    x ^= x >> np.uint32(16)
    return x


def _random_bits(seed: int, stream: int, index) -> np.ndarray:
    offset = ((2 * seed + stream) * 0x9E3779B9) % 2**32
    return _hash32((np.asarray(index, dtype=np.int64) + offset) % 2**32)


def pearson_square(n: int, seed: int):
    """gray_scott.js's pearsonSquare: initial_conditions.pearson_square with hashed noise."""
    u, v = np.ones((n, n)), np.zeros((n, n))
    half = max(1, int(round(SQUARE_FRACTION * n / 2)))
    centre = slice(n // 2 - half, n // 2 + half)
    u[centre, centre], v[centre, centre] = 0.5, 0.25
    cells = np.arange(n * n).reshape(n, n)
    u = u + SQUARE_NOISE * (_random_bits(seed, 0, cells) / 2**31 - 1)
    v = v + SQUARE_NOISE * (_random_bits(seed, 1, cells) / 2**31 - 1)
    return np.clip(u, 0, 1), np.clip(v, 0, 1)


def gaussian_bumps(n: int, dx: float, seed: int):
    """gray_scott.js's gaussianBumps: initial_conditions.gaussian_bumps with hashed centres."""
    width = BUMP_WIDTH / (n * dx)
    count = BUMP_COUNT[0] + int(_random_bits(seed, 2, [0])[0]) % (BUMP_COUNT[1] - BUMP_COUNT[0] + 1)
    x = np.arange(n) / n
    v = np.zeros((n, n))
    for b in range(count):
        cy = int(_random_bits(seed, 2, [1 + 2 * b])[0]) / 2**32
        cx = int(_random_bits(seed, 2, [2 + 2 * b])[0]) / 2**32
        dy = (x - cy + 0.5) % 1.0 - 0.5
        dxx = (x - cx + 0.5) % 1.0 - 0.5
        v += np.exp(-(dy[:, None] ** 2 + dxx[None, :] ** 2) / (2 * width**2))
    v = np.clip(v, 0, 1)
    return 1.0 - v, v


def _decode(fields):
    """fieldBytes()'s base64 float64 fields -> (u, v) of shape (n, n)."""
    n = fields["n"]
    return tuple(np.frombuffer(base64.b64decode(fields[name]), dtype="<f8").reshape(n, n)
                 for name in ("u", "v"))


def _fields(state):
    return state["u"], state["v"]


# --------------------------------------------------------------------------- the page runs
def test_page_animates_without_errors(explorer):
    """(a), (b): it animates a few hundred ms with no error; the field changes; seeding works."""
    before = explorer.state()
    explorer.js("() => window.grayScott.resume()")
    explorer.page.wait_for_timeout(600)
    after = explorer.state()
    assert after["steps"] > before["steps"], (before["steps"], after["steps"])
    assert after["time"] == pytest.approx(after["steps"] * after["dt"])
    change = np.max(np.abs(_fields(after)[1] - _fields(before)[1]))
    assert change > 1e-4, f"the field did not change in {after['steps'] - before['steps']} steps"
    assert np.all(np.isfinite(_fields(after)))
    assert after["stopped"] is None and explorer.page.locator("#message").is_hidden()
    assert "t = " in explorer.page.locator("#info").inner_text()

    # The controls: pause, a preset from the menu, a click on the canvas seeds a square of v.
    explorer.page.click("#pause")
    assert explorer.state(False)["running"] is False
    explorer.page.select_option("#preset", "pearson:kappa")
    state = explorer.state(False)
    assert (state["preset"], state["n"], state["F"], state["k"]) == ("kappa", 256, 0.050, 0.063)
    box = explorer.page.locator("#field").bounding_box()
    explorer.page.mouse.click(box["x"] + 0.25 * box["width"], box["y"] + 0.75 * box["height"])
    u, v = _fields(explorer.state())
    assert v[192, 64] == 0.25 and u[192, 64] == 0.5  # (row, col) = (0.75, 0.25) of 256
    assert not explorer.foreign_requests, explorer.foreign_requests
    assert not explorer.errors, explorer.errors  # console errors and page errors


def test_page_runs_from_a_file_url(browser):
    page = Explorer(browser, (EXPLORER / "index.html").as_uri(), "file://")
    try:
        page.page.wait_for_timeout(400)
        assert page.state(False)["steps"] > 0
        assert not page.errors, page.errors
        assert not page.foreign_requests, page.foreign_requests
    finally:
        page.close()


# --------------------------------------------------------------------------- same as the package
def test_presets_and_grids_are_the_packages(explorer):
    """(d): the JS tables equal presets.py's dictionaries exactly; the grids are the sources'."""
    tables = explorer.js("() => [window.grayScott.WELL_PARAMETERS, "
                         "window.grayScott.PEARSON_CLASSES]")
    assert {name: tuple(fk) for name, fk in tables[0].items()} == WELL_PARAMETERS
    assert {name: tuple(fk) for name, fk in tables[1].items()} == PEARSON_CLASSES
    assert list(tables[0]) == list(WELL_PARAMETERS) and list(tables[1]) == list(PEARSON_CLASSES)
    grids = explorer.js("() => window.grayScott.GRIDS")
    model = GrayScott(0.03, 0.06)
    assert (explorer.js("() => window.grayScott.DU"), explorer.js("() => window.grayScott.DV")) == \
        (model.Du, model.Dv)
    # The Well: 128² on [-1, 1]² (data.py's dx and dt); Pearson: 256² on a side of 2.5 (sweep.py).
    assert (grids["well"]["n"], grids["well"]["dx"], grids["well"]["dt"]) == (128, WELL_DX, WELL_DT)
    assert (PatternConfig().dx, PatternConfig().dt) == (WELL_DX, WELL_DT)
    assert (grids["pearson"]["n"], grids["pearson"]["dx"], grids["pearson"]["dt"]) == \
        (256, PEARSON_DX, PEARSON_DT)
    assert (grids["well"]["start"], grids["pearson"]["start"]) == ("bumps", "square")


@pytest.mark.parametrize("name, seed, start", [("spots", 3, None), ("kappa", 7, None),
                                               ("maze", 1, "square"), ("beta", 2, "bumps")])
def test_initial_conditions_are_reproducible(explorer, name, seed, start):
    explorer.js("([p, s, start]) => window.grayScott.reset(p, s, start)", [name, seed, start])
    state = explorer.state()
    start = start or ("bumps" if name in WELL_PARAMETERS else "square")
    n, dx = state["n"], state["dx"]
    u0, v0 = pearson_square(n, seed) if start == "square" else gaussian_bumps(n, dx, seed)
    u, v = _fields(state)
    difference = max(np.max(np.abs(u - u0)), np.max(np.abs(v - v0)))
    print(f"\n{name} ({start}, seed {seed}, {n}²): initial fields, "
          f"max |JS - numpy| = {difference:.3g}")
    if start == "square":
        assert difference == 0.0  # no transcendental function: bit for bit
    else:
        assert difference <= 1e-15  # Math.exp and numpy's exp may differ in the last bit
    assert v.max() > 0.2 and u.min() < 0.9  # something to grow from


@pytest.mark.parametrize("name, steps", [("spots", 500), ("kappa", 500), ("sigma", 200)])
def test_matches_the_numpy_solver(explorer, name, steps):
    """(c): N steps in the browser equal simulate(..., backend="numpy") from the same start.

    σ runs at the clamped dt = 0.95 × its limit (≈ 0.994), not at Pearson's dt = 1."""
    explorer.js("(p) => window.grayScott.reset(p, 0)", name)
    initial = explorer.state()
    explorer.js("(n) => window.grayScott.step(n)", steps)
    final = explorer.state()
    assert final["stopped"] is None and final["steps"] == steps
    n, dx, dt = initial["n"], initial["dx"], initial["dt"]
    grid_dx, grid_dt, grid_n = ((WELL_DX, WELL_DT, 128) if name in WELL_PARAMETERS
                                else (PEARSON_DX, PEARSON_DT, 256))
    assert (n, dx) == (grid_n, grid_dx)
    assert dt == min(grid_dt, DT_SAFETY * initial["limit"])
    assert initial["limit"] == pytest.approx(stability_limit(preset(name), dx), rel=1e-9)
    assert (final["F"], final["k"]) == (preset(name).F, preset(name).k)
    u0, v0 = _fields(initial)
    u, v = simulate(preset(name), u0, v0, steps=steps, dt=dt, dx=dx, method="euler",
                    backend="numpy", stencil="5-point")
    js_u, js_v = _fields(final)
    difference = max(np.max(np.abs(js_u - u)), np.max(np.abs(js_v - v)))
    moved = max(np.max(np.abs(u - u0)), np.max(np.abs(v - v0)))
    print(f"\n{name} ({n}², dx = {dx}, dt = {dt}), {steps} steps: max |JS - numpy| = "
          f"{difference:.3g} (the fields moved by up to {moved:.3g})")
    assert moved > 1e-2  # a real test: the dynamics did something
    assert difference < 1e-6, f"max |JS - numpy| = {difference:.3g}"


# --------------------------------------------------------------------------- stability
STABILITY_CASES = [(*WELL_PARAMETERS[name], "well") for name in ("spots", "bubbles", "gliders")] + \
    [(*PEARSON_CLASSES[name], "pearson") for name in ("kappa", "rho", "sigma", "pi", "alpha")] + \
    [(0.09, 0.035, "pearson"), (0.0, 0.0, "well"), (0.06, 0.0623, "pearson")]


@pytest.mark.parametrize("F, k, family", STABILITY_CASES)
def test_stability_limit_is_the_packages(explorer, F, k, family):
    """(e): the ported limit equals solver.stability_limit to 1e-9 relative."""
    dx = {"well": WELL_DX, "pearson": PEARSON_DX}[family]
    js = explorer.js("([F, k, dx]) => window.grayScott.stabilityLimit(F, k, dx)", [F, k, dx])
    expected = stability_limit(GrayScott(F, k), dx)
    assert js == pytest.approx(expected, rel=1e-9, abs=0)
    states = explorer.js("([F, k]) => window.grayScott.steadyStates(F, k)", [F, k])
    assert np.allclose(states, GrayScott(F, k).steady_states(), rtol=1e-12, atol=0)


def test_time_step_is_clamped_to_the_limit(explorer):
    """(e): a requested dt above the limit runs at 0.95 × limit, and the page says so."""
    s = explorer.js("() => window.grayScott.reset('kappa', 0)")
    assert (s["dt"], s["dtClamped"]) == (1.0, False)  # Pearson's dt = 1 is within 0.95 × 1.158
    s = explorer.js("() => window.grayScott.setRequestedDt(3)")
    limit = stability_limit(preset("kappa"), PEARSON_DX)
    assert s["dtClamped"] and s["dt"] < limit
    assert s["dt"] == pytest.approx(DT_SAFETY * limit, rel=1e-9)
    explorer.js("() => window.grayScott.step(1)")  # showInfo runs on the next animation frame
    explorer.page.wait_for_function("() => !document.getElementById('message').hidden")
    assert "above" in explorer.page.locator("#message").inner_text()
    # A non-positive request is refused: an Error, and the time step is unchanged.
    with pytest.raises(Exception, match="dt must be a finite number > 0"):
        explorer.js("() => window.grayScott.setRequestedDt(-1)")
    assert explorer.state(False)["dt"] == s["dt"]
    # Where the reaction makes the limit fall below Pearson's dt = 1 (the checkerboard point
    # of solver.stability_limit's docstring), a request of 1 is clamped too; so is σ.
    explorer.js("() => window.grayScott.setRequestedDt(1)")
    s = explorer.js("() => window.grayScott.setParameters(0.09, 0.035)")
    limit = stability_limit(GrayScott(0.09, 0.035), PEARSON_DX)
    assert limit < 1 and s["preset"] == "custom"
    assert s["dtClamped"] and s["dt"] == pytest.approx(DT_SAFETY * limit, rel=1e-9)
    s = explorer.js("() => window.grayScott.reset('sigma', 0)")
    assert s["dt"] == pytest.approx(DT_SAFETY * stability_limit(preset("sigma"), PEARSON_DX))
    # The slider path: moving F re-clamps.
    explorer.page.locator("#feed").fill("0.1")
    s = explorer.state(False)
    assert s["F"] == 0.1 and s["dt"] <= DT_SAFETY * stability_limit(GrayScott(0.1, s["k"]),
                                                                    PEARSON_DX) * (1 + 1e-12)


def test_guard_stops_a_blow_up(explorer):
    """The run-time guard: a field leaving the sane range, or NaN, stops the run, naming the
    step and the limit, and keeps the last good field."""
    explorer.js("() => window.grayScott.reset('spots', 0)")
    for value, words in ((40.0, "left the range"), (float("nan"), "became non-finite")):
        result = explorer.js(
            """([value]) => {
                const g = window.grayScott;
                g.reset('spots', 0);
                g.step(3);
                const s = g.state();
                s.v[64 * 128 + 64] = value;
                g.setFields(s.u, s.v);
                g.resume();
                return g.step(10);
            }""", [value])
        assert result["steps"] == 3, result
        message = result["stopped"]
        assert words in message and "at step 4 " in message and "dt ≤" in message, message
        state = explorer.state()
        assert state["running"] is False and state["steps"] == 3
        assert np.isfinite(_fields(state)[0]).all()  # u of the last good step
        explorer.page.wait_for_function("() => !document.getElementById('message').hidden")
        assert "Stopped" in explorer.page.locator("#message").inner_text()
        explorer.js("() => window.grayScott.resume()")  # does not restart a stopped run
        assert explorer.state(False)["running"] is False
