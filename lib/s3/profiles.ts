/**
 * Named profiles of the AWS CLI's files (`~/.aws/credentials`, `~/.aws/config`, or where
 * AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE point), to tell a user who mistyped
 * `--profile` so in one line, before the SDK searches every provider.
 *
 * @module
 */
import { homeDir } from "../fs.ts";

/**
 * The profile names the two files define: `[name]` in the credentials file, `[profile
 * name]` (and `[default]`) in the config file.
 *
 * @example
 * ```ts
 * console.log(profileNames().has("default"));
 * ```
 */
export function profileNames(): Set<string> {
  const names = new Set<string>();
  const home = homeDir();
  const credentials = Deno.env.get("AWS_SHARED_CREDENTIALS_FILE") ?? `${home}/.aws/credentials`;
  const config = Deno.env.get("AWS_CONFIG_FILE") ?? `${home}/.aws/config`;
  for (const name of sectionsOf(credentials)) names.add(name);
  for (const section of sectionsOf(config)) {
    const profile = /^profile\s+(.+)$/.exec(section)?.[1];
    if (profile !== undefined) names.add(profile.trim());
    else if (section === "default") names.add(section);
  }
  return names;
}

function sectionsOf(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*\[([^\]]+)\]\s*$/gm)].map((match) => match[1]!.trim());
}

/**
 * Why `--profile name` cannot work, or undefined when a file defines it.
 *
 * @example
 * ```ts
 * console.log(profileProblem("no-such-profile-here"));
 * ```
 */
export function profileProblem(name: string): string | undefined {
  const names = profileNames();
  if (names.has(name)) return undefined;
  const known = [...names].sort();
  return `Profile "${name}" is not defined in ~/.aws/credentials or ~/.aws/config (${
    known.length === 0 ? "no profiles are" : `defined: ${known.join(", ")}`
  }${
    known.length === 0 ? " defined there" : ""
  }). Check the name, or create it with "aws configure --profile ${name}".`;
}
