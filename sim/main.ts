/**
 * `npm run sim -- --meters 1000 --tcp 127.0.0.1:4059 --serial <tty> --pairing-key <file>
 * --km-public-key <file> --loss 0.01 --rate 5000 --latency 50 --seed 1 --model 'GX-110 single-phase'
 * --vendor-key <file> --trust-key <file> --trust-key <file> --running-sequence 1`
 */
import { parseSimArgs, type SimArgs } from './args.js';
import { startSimulator } from './simulator.js';

let args: SimArgs;
try {
  args = parseSimArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nusage: npm run sim -- --tcp host:port | --serial <tty> --pairing-key <key file> --km-public-key <key file> [--meters N] [--loss p] [--rate bit/s] [--latency ms] [--seed n] [--group id] [--fleet-out csv] [--model name] [--vendor-key <vendor .pub from grepctl fw keygen>, default resources/firmware/demo-vendor.pub] [--trust-key <.pub> (repeatable: more keys every meter trusts)] [--running-sequence n, default 1]\n`);
  process.exit(2);
}
const simulator = await startSimulator(args, (line) => process.stdout.write(`${line}\n`));
const stop = () => {
  const { airtimeSeconds, queued, epoch } = simulator.dc.status();
  process.stdout.write(`stopping: ${airtimeSeconds.toFixed(1)} s of airtime used, ${queued} frames still queued, DC at epoch ${epoch}\n`);
  void simulator.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
