// TAP lines for test/shell/clients.sh, which numbers them: "ok - …", "not ok - …", "# …".
'use strict';

// check prints "ok - DESC" when cond holds, else "not ok - DESC" and each diagnostic line.
function check(desc, cond, ...diagnostics) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${desc}`);
  if (!cond) for (const d of diagnostics) console.log(`#   ${typeof d === 'string' ? d : show(d)}`);
}

// show renders a value for a diagnostic, BigInts included.
function show(v) {
  return JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? `${x}n` : x));
}

// rejection runs fn and returns the error it throws (null when it does not throw).
async function rejection(fn) {
  try { await fn(); return null; } catch (err) { return err; }
}

// context is worker w's deletion context; test/shell/clients.sh checks the archive for exactly this.
function context(stack, w) {
  return { actor: `${stack}-worker-${w}`, reason: `cleanup by ${stack} worker ${w}`, metadata: { stack, worker: w } };
}

const env = {
  workers: Number(process.env.WORKERS), txns: Number(process.env.TXNS), perTxn: Number(process.env.PER_TXN),
  rows: Number(process.env.ROWS), direct: Number(process.env.DIRECT_PORT), bouncer: Number(process.env.BOUNCER_PORT),
};

// The numbers the archive must keep exact: a bigint above 2^53 and a numeric of 30 digits.
const BIG = '9007199254740993';
const AMOUNT = '12345678901234567890.0123456789';

module.exports = { check, show, rejection, context, env, BIG, AMOUNT };
