/** Progress lines on stderr (the table goes to stdout): elapsed time, step, detail. */
const started = Date.now();

function stamp() {
  const s = Math.round((Date.now() - started) / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function step(message) {
  process.stderr.write(`[${stamp()}] ${message}\n`);
}

export function detail(message) {
  process.stderr.write(`         ${message}\n`);
}
