import { stderr } from '@oclif/core/ux';
import { usageError } from './errors.js';

/** The first line of stdin (without its line ending); '' when stdin is empty. */
export async function readStdinLine(): Promise<string> {
  process.stdin.setEncoding('utf8');
  let text = '';
  // Stop at the first newline, so `--password-stdin` typed on a terminal needs no Ctrl-D.
  for await (const chunk of process.stdin) {
    text += chunk as string;
    if (text.includes('\n')) break;
  }
  return text.split('\n', 1)[0]!.replace(/\r$/, '');
}

async function prompt(message: string): Promise<string> {
  const { default: password } = await import('@inquirer/password');
  // The prompt goes to stderr so that stdout stays the command's output.
  return password({ message }, { output: process.stderr });
}

/**
 * A new password, never from a flag value (it would land in shell history and `ps`): one line
 * from stdin when asked for or when stdin is not a terminal, else a hidden prompt typed twice.
 */
export async function readNewPassword(fromStdin: boolean): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const line = await readStdinLine();
    if (line === '') throw usageError("Blank passwords aren't allowed (expected one line on stdin).");
    return line;
  }
  for (let attempt = 1; ; attempt++) {
    const first = await prompt('Password:');
    if (first === '') {
      stderr("Error: Blank passwords aren't allowed.");
    } else if ((await prompt('Password (again):')) === first) {
      return first;
    } else {
      stderr("Error: Your passwords didn't match.");
    }
    if (attempt === 3) throw usageError('No password set: three failed attempts.');
  }
}

/** A key to check: one line from stdin, or a hidden prompt on a terminal. */
export async function readKey(): Promise<string> {
  // Surrounding whitespace is never part of a key (the middleware splits the header on it too).
  const key = (process.stdin.isTTY ? await prompt('Token:') : await readStdinLine()).trim();
  if (key === '') throw usageError('No token: give the key on stdin, e.g. `printenv API_TOKEN | tokenledger token verify`.');
  return key;
}
