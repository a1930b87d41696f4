// A duet run for perfcert: one k6 run drives the baseline and the current deployment side by
// side, at the same arrival rate, so that whatever slows the machines down in the meantime
// slows both. perfcert reads the raw output with --duet and pairs the two sides per time slice.
//
//   k6 run -e BASELINE_URL=http://baseline.internal:8080 -e CURRENT_URL=http://current.internal:8080 \
//          -e BASELINE_PLACEMENT=node-a -e CURRENT_PLACEMENT=node-b --out json=duet-1.ndjson.gz examples/duet.js
//   # the next duet run with the places swapped (candidate on node-a, baseline on node-b):
//   k6 run ... -e BASELINE_PLACEMENT=node-b -e CURRENT_PLACEMENT=node-a --out json=duet-2.ndjson.gz examples/duet.js
//   perfcert compare --duet duet-1.ndjson.gz --duet duet-2.ndjson.gz
//
// Every request of a side is tagged side:baseline or side:current (the scenario's tags; the
// policy's duet: block can name another tag), and placement:<where the side runs> when
// BASELINE_PLACEMENT / CURRENT_PLACEMENT are set. Both sides request the same paths, so their
// per-endpoint rows (the name tag without scheme and host) line up.
//
// Environment:
//   BASELINE_URL, CURRENT_URL   the two deployments (required)
//   RATE                        requests per second per side (default 50)
//   DURATION                    how long (default 5m)
//   READ_PATH                   GET path (default /)
//   WRITE_PATH                  also POST this path each iteration (default: none)
//   BASELINE_PLACEMENT, CURRENT_PLACEMENT   where each side runs (node, pool), for the record
import http from 'k6/http';

const RATE = Number(__ENV.RATE || 50);
const DURATION = __ENV.DURATION || '5m';
const READ_PATH = __ENV.READ_PATH || '/';
const WRITE_PATH = __ENV.WRITE_PATH || '';

function side(name, placement) {
  const tags = { side: name };
  if (placement) {
    tags.placement = placement;
  }
  return {
    executor: 'constant-arrival-rate',
    rate: RATE,
    timeUnit: '1s',
    duration: DURATION,
    preAllocatedVUs: Math.max(10, RATE),
    maxVUs: Math.max(20, RATE * 4),
    exec: name,
    tags,
  };
}

export const options = {
  scenarios: {
    baseline: side('baseline', __ENV.BASELINE_PLACEMENT),
    current: side('current', __ENV.CURRENT_PLACEMENT),
  },
  discardResponseBodies: true,
  // Fewer tags per sample: smaller raw output, nothing perfcert reads is lost.
  systemTags: ['method', 'name', 'status', 'scenario', 'expected_response', 'error_code'],
};

function visit(base) {
  if (!base) {
    throw new Error('set BASELINE_URL and CURRENT_URL');
  }
  http.get(`${base}${READ_PATH}`);
  if (WRITE_PATH) {
    http.post(`${base}${WRITE_PATH}`, '{}', { headers: { 'Content-Type': 'application/json' } });
  }
}

export function baseline() {
  visit(__ENV.BASELINE_URL);
}

export function current() {
  visit(__ENV.CURRENT_URL);
}
