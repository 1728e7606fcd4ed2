// The "Try it" page: draw a digit, translate it with the shipped MNIST <-> SVHN generators and
// read it with the digit classifiers, all in the browser with onnxruntime-web (WebAssembly).
//
// Everything the page needs comes in classic <script> files, because a page opened from file://
// may not fetch() local files: onnxruntime-web's UMD build (ort.wasm.min.js), its WebAssembly
// binary and loader module (ort-wasm-embedded.js) and the ONNX models with a few real MNIST test
// digits (models.js), both gzip + base64, written by book/_ext/try_it.py when the book is built.
//
// window.TryIt is the page's API (used by the book's browser test, handy in a console):
//   await TryIt.ready                 models loaded (rejects with the reason when they cannot)
//   TryIt.setDigit(pixels)            784 values 0..255, row-major 28x28, white ink on black
//   TryIt.drawStroke([[x, y], ...])   a stroke in 28x28 pixel coordinates, with the page's brush
//   TryIt.clear()
//   await TryIt.idle()                the result of the latest drawing (see run() below)
(function () {
  "use strict";

  const ASSETS = window.TryItAssets || {};
  const SIZE = 28;           // MNIST's grid
  const PAD = 2;             // MNIST is padded 28 -> 32 with its black background (data.py)
  const IN = SIZE + 2 * PAD; // the generators' input size
  const CENTRE = 14;         // where MNIST's centre of mass sits (row/column index; mean 14.0)
  // The brush: full ink within BRUSH_R - BRUSH_SOFT of the pen's path, fading to none at
  // BRUSH_R (pixels of the 28x28 grid). Sized so that drawn strokes have the width and ink of
  // MNIST's (about 2 pixels above half ink, 80-120 ink-pixels per digit).
  const BRUSH_R = 1.8;
  const BRUSH_SOFT = 1.0;

  const $ = (id) => document.getElementById(id);
  const ink = new Float32Array(SIZE * SIZE); // the drawing, 0 (background) .. 1 (ink)
  let sessions = null;
  let running = null;    // the promise of the inference in progress
  let dirty = false;     // the drawing changed since that inference started
  let latest = null;     // the newest result
  let changedAt = 0;     // performance.now() of the drawing's latest change
  let resolveReady, rejectReady;
  const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  ready.catch(() => {}); // reported on the page; only callers that await it see the rejection

  function setStatus(text, state) {
    const root = $("tryit");
    if (root) root.dataset.state = state;
    const el = $("tryit-status");
    if (el) {
      el.textContent = text;
      el.className = "tryit-status tryit-" + state;
    }
  }

  // ------------------------------------------------------------------------------- assets

  async function unpack(gzipBase64) {
    const text = atob(gzipBase64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  function missingFeature() {
    if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
      return "This page needs WebAssembly, which this browser does not offer (or has turned " +
        "off). The translations cannot run here; chapter 13 shows them for the test digits.";
    }
    if (typeof DecompressionStream !== "function" || typeof Blob.prototype.stream !== "function") {
      return "This page needs a browser from 2023 or later (it unpacks the models with " +
        "DecompressionStream, which this one lacks).";
    }
    if (!window.ort || !ASSETS.ortWasm || !ASSETS.ortGlue || !ASSETS.models) {
      return "The page's model files (_static/tryit/*.js) did not load; rebuild the book with " +
        "`make book`.";
    }
    return null;
  }

  async function load() {
    const started = performance.now();
    const stages = {};
    let t = started;
    const lap = (name) => {
      const now = performance.now();
      stages[name] = Math.round(now - t);
      t = now;
    };
    const ort = window.ort;
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, absent on file:// pages
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmBinary = (await unpack(ASSETS.ortWasm.gzipBase64)).buffer;
    const glue = URL.createObjectURL(new Blob([ASSETS.ortGlue], { type: "text/javascript" }));
    ort.env.wasm.wasmPaths = { mjs: glue };
    lap("unpack_runtime");
    const loaded = {};
    for (const [name, model] of Object.entries(ASSETS.models)) {
      const bytes = await unpack(model.gzipBase64);
      lap("unpack_" + name);
      loaded[name] = await ort.InferenceSession.create(bytes, {
        executionProviders: ["wasm"], graphOptimizationLevel: "all",
      });
      lap("session_" + name); // the first one also compiles and starts the WebAssembly runtime
    }
    sessions = loaded;
    window.TryIt.loadStages = stages;
    return performance.now() - started;
  }

  // ------------------------------------------------------------------------------- drawing

  function segmentDistance(px, py, ax, ay, bx, by) {
    const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
  }

  // Ink a segment from (ax, ay) to (bx, by), in 28x28 pixel coordinates (pixel (i, j) covers
  // x in [j, j + 1), y in [i, i + 1)); ink only grows (max), as a pen on paper.
  function inkSegment(ax, ay, bx, by) {
    const i0 = Math.max(0, Math.floor(Math.min(ay, by) - BRUSH_R));
    const i1 = Math.min(SIZE - 1, Math.ceil(Math.max(ay, by) + BRUSH_R));
    const j0 = Math.max(0, Math.floor(Math.min(ax, bx) - BRUSH_R));
    const j1 = Math.min(SIZE - 1, Math.ceil(Math.max(ax, bx) + BRUSH_R));
    for (let i = i0; i <= i1; i++) {
      for (let j = j0; j <= j1; j++) {
        const d = segmentDistance(j + 0.5, i + 0.5, ax, ay, bx, by);
        const v = Math.max(0, Math.min(1, (BRUSH_R - d) / BRUSH_SOFT));
        if (v > ink[i * SIZE + j]) ink[i * SIZE + j] = v;
      }
    }
  }

  // The model's input: the drawing with its centre of mass moved to the middle (whole pixels),
  // padded to 32x32 with the background, in [-1, 1] (as data.to_float makes MNIST).
  function modelInput() {
    let mass = 0, mi = 0, mj = 0;
    for (let i = 0; i < SIZE; i++) {
      for (let j = 0; j < SIZE; j++) {
        const v = ink[i * SIZE + j];
        mass += v; mi += v * i; mj += v * j;
      }
    }
    const si = mass > 0 ? Math.round(CENTRE - mi / mass) : 0;
    const sj = mass > 0 ? Math.round(CENTRE - mj / mass) : 0;
    const x = new Float32Array(IN * IN).fill(-1);
    for (let i = 0; i < SIZE; i++) {
      for (let j = 0; j < SIZE; j++) {
        const ti = i + si, tj = j + sj;
        if (ti < 0 || ti >= SIZE || tj < 0 || tj >= SIZE) continue;
        x[(ti + PAD) * IN + tj + PAD] = ink[i * SIZE + j] * 2 - 1;
      }
    }
    return { x, shift: [si, sj] };
  }

  function paint(canvas, values, channels) {
    // values: NHWC of one image in [-1, 1] (channels 1 or 3), or the 0..1 drawing
    const ctx = canvas.getContext("2d");
    const w = canvas.width, h = canvas.height;
    const img = ctx.createImageData(w, h);
    for (let p = 0; p < w * h; p++) {
      for (let c = 0; c < 3; c++) {
        const v = channels === 0 ? values[p] : values[p * channels + (channels === 3 ? c : 0)];
        const u = channels === 0 ? v * 255 : (v + 1) * 127.5;
        img.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round(u)));
      }
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  // ------------------------------------------------------------------------------- models

  function softmax(logits) {
    const m = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }

  function reading(logits) {
    const probs = softmax(logits);
    const digit = probs.indexOf(Math.max(...probs));
    return { digit, probability: probs[digit], probs };
  }

  async function runOnce(x) {
    const ort = window.ort;
    const one = async (name, data, shape) => {
      const s = sessions[name];
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", data, shape) });
      return out[s.outputNames[0]].data;
    };
    const started = performance.now();
    const translation = await one("G_XY", x, [1, IN, IN, 1]);
    const reconstruction = await one("G_YX", translation, [1, IN, IN, 3]);
    const both = new Float32Array(2 * IN * IN);
    both.set(x, 0);
    both.set(reconstruction, IN * IN);
    const mnistLogits = await one("C_mnist", both, [2, IN, IN, 1]);
    const svhnLogits = await one("C_svhn", translation, [1, IN, IN, 3]);
    return {
      input: x, translation: Float32Array.from(translation),
      reconstruction: Float32Array.from(reconstruction),
      logits: {
        input: Array.from(mnistLogits.slice(0, 10)),
        translation: Array.from(svhnLogits),
        reconstruction: Array.from(mnistLogits.slice(10, 20)),
      },
      ms: performance.now() - started,
    };
  }

  function showReading(el, r) {
    el.replaceChildren();
    const head = document.createElement("div");
    head.className = "tryit-verdict";
    head.innerHTML = `<span class="tryit-who">${el.dataset.classifier}</span>` +
      `reads <b class="tryit-digit">${r.digit}</b>` +
      ` <span class="tryit-prob">${(100 * r.probability).toFixed(0)} %</span>`;
    el.appendChild(head);
    const bars = document.createElement("div");
    bars.className = "tryit-bars";
    r.probs.forEach((p, d) => {
      const row = document.createElement("div");
      row.className = "tryit-bar" + (d === r.digit ? " tryit-top" : "");
      row.innerHTML = `<span class="tryit-bar-digit">${d}</span>` +
        `<span class="tryit-bar-track"><span class="tryit-bar-fill" style="width:` +
        `${(100 * p).toFixed(1)}%"></span></span>` +
        `<span class="tryit-bar-value">${(100 * p).toFixed(p < 0.095 ? 1 : 0)}</span>`;
      bars.appendChild(row);
    });
    el.appendChild(bars);
  }

  function show(result) {
    paint($("tryit-input"), result.input, 1);
    paint($("tryit-translation"), result.translation, 3);
    paint($("tryit-reconstruction"), result.reconstruction, 1);
    for (const key of ["input", "translation", "reconstruction"]) {
      showReading($("tryit-read-" + key), result.readings[key]);
    }
    const r = result.readings;
    const flipped = r.translation.digit !== r.input.digit;
    $("tryit-timing").textContent =
      `Computed in ${result.ms.toFixed(0)} ms (two generators, three classifier readings; ` +
      `WebAssembly, one thread).` + (result.empty ? "" : flipped
        ? ` The translation reads as ${r.translation.digit}, not ${r.input.digit}: a label flip.`
        : ` The translation keeps the digit ${r.input.digit}.`);
  }

  // Run the models on the current drawing; drawings made meanwhile are coalesced into one run.
  function schedule() {
    dirty = true;
    changedAt = performance.now();
    paint($("tryit-canvas"), ink, 0);
    if (!sessions || running) return running;
    running = (async () => {
      try {
        while (dirty) {
          dirty = false;
          const drawnAt = changedAt;
          const { x, shift } = modelInput();
          const result = await runOnce(x);
          result.shift = shift;
          result.empty = !ink.some((v) => v > 0);
          result.readings = {};
          for (const key of Object.keys(result.logits)) {
            result.readings[key] = reading(result.logits[key]);
          }
          result.sequence = (latest ? latest.sequence : 0) + 1;
          latest = result;
          show(result);
          // from the drawing's last change to its result on the screen (a run still busy with
          // an older drawing included)
          result.latencyMs = performance.now() - drawnAt;
          $("tryit").dataset.results = String(result.sequence);
        }
      } catch (err) {
        setStatus("The models failed to run: " + err, "error");
        throw err;
      } finally {
        running = null;
      }
      return latest;
    })();
    return running;
  }

  async function idle() {
    await ready;
    while (running) await running;
    if (dirty) {
      await schedule();
      return idle();
    }
    return latest;
  }

  function setDigit(pixels) {
    if (!pixels || pixels.length !== SIZE * SIZE) {
      throw new Error(`setDigit expects ${SIZE * SIZE} values (28x28, 0..255), got ` +
        (pixels ? pixels.length : pixels));
    }
    for (let p = 0; p < ink.length; p++) ink[p] = Math.max(0, Math.min(255, pixels[p])) / 255;
    return schedule();
  }

  function clear() {
    ink.fill(0);
    return schedule();
  }

  function drawStroke(points) {
    if (!points.length) return schedule();
    const pts = points.length === 1 ? [points[0], points[0]] : points;
    for (let k = 1; k < pts.length; k++) {
      inkSegment(pts[k - 1][0], pts[k - 1][1], pts[k][0], pts[k][1]);
    }
    return schedule();
  }

  // ------------------------------------------------------------------------------- the page

  function pointerPosition(canvas, event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * SIZE / box.width,
      (event.clientY - box.top) * SIZE / box.height];
  }

  function wireCanvas() {
    const canvas = $("tryit-canvas");
    let last = null;
    canvas.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      last = pointerPosition(canvas, event);
      inkSegment(last[0], last[1], last[0], last[1]);
      schedule();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!last) return;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
      for (const e of events.length ? events : [event]) {
        const p = pointerPosition(canvas, e);
        inkSegment(last[0], last[1], p[0], p[1]);
        last = p;
      }
      schedule();
    });
    const stop = () => { last = null; };
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    $("tryit-clear").addEventListener("click", () => clear());
  }

  function samplePixels(sample) {
    const text = atob(sample.pixels);
    return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  }

  function wireSamples() {
    const holder = $("tryit-samples");
    const samples = ASSETS.samples || [];
    if (!samples.length) {
      holder.textContent = "(no MNIST test digits were available when this book was built)";
      return;
    }
    for (const sample of samples) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tryit-sample";
      button.title = `MNIST test digit #${sample.test_index}, a ${sample.label}`;
      const c = document.createElement("canvas");
      c.width = SIZE; c.height = SIZE;
      const pixels = samplePixels(sample);
      paint(c, Float32Array.from(pixels, (v) => v / 255), 0);
      button.appendChild(c);
      button.addEventListener("click", () => setDigit(pixels));
      holder.appendChild(button);
    }
  }

  function describeModels() {
    const holder = $("tryit-models");
    const checks = (ASSETS.build || {}).checks || {};
    const rows = Object.entries(ASSETS.models || {}).map(([name, m]) => {
      const c = checks[name] || {};
      const diff = c.max_abs_diff === undefined ? "" : c.max_abs_diff.toExponential(1);
      return `<tr><td><code>${name}.onnx</code></td><td>${m.role}</td>` +
        `<td><code>${m.source}</code></td><td>${(m.bytes / 1e6).toFixed(2)} MB</td>` +
        `<td>${diff}</td><td>${c.checked_on || ""}</td></tr>`;
    });
    holder.innerHTML = `<table class="tryit-table"><thead><tr><th>file</th><th>what</th>` +
      `<th>exported from</th><th>size</th><th>max |Keras &minus; ONNX|</th>` +
      `<th>checked on</th></tr></thead><tbody>${rows.join("")}</tbody></table>` +
      `<p>onnxruntime-web ${(ASSETS.build || {}).onnxruntime_web || "?"}; exported with ` +
      `tf2onnx ${(ASSETS.build || {}).tf2onnx || "?"}. Outputs are in [-1, 1] for the ` +
      `generators and logits for the classifiers.</p>`;
  }

  async function start() {
    const problem = missingFeature();
    if (problem) {
      setStatus(problem, "unsupported");
      rejectReady(new Error(problem));
      return;
    }
    wireCanvas();
    wireSamples();
    describeModels();
    paint($("tryit-canvas"), ink, 0);
    try {
      const ms = await load();
      window.TryIt.loadMs = ms;
      setStatus(`Ready: draw a digit (models loaded in ${(ms / 1000).toFixed(1)} s).`, "ready");
      resolveReady();
      const first = (ASSETS.samples || [])[0];
      if (first && !ink.some((v) => v > 0)) setDigit(samplePixels(first));
      else schedule();
    } catch (err) {
      setStatus("The models could not be loaded: " + (err && err.message ? err.message : err),
        "error");
      rejectReady(err);
    }
  }

  window.TryIt = {
    ready, setDigit, drawStroke, clear, idle,
    get result() { return latest; },
    size: SIZE, brush: { radius: BRUSH_R, soft: BRUSH_SOFT },
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
