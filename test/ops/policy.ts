import type { PolicyDocument, PolicyStatement } from '../../src/aws/iam.ts';

/**
 * A small IAM evaluator for the tests: whether a policy's Allow statements grant an action on a
 * resource, with the condition operators our templates use (StringEquals, StringLike, Bool)
 * evaluated against the request's context keys. A key the request lacks fails its condition, as
 * in IAM. Deny statements, NotAction and NotResource are not used by our templates (the scoping
 * check refuses anything but Allow).
 */

/** One permission a request needs: the action, the resource it touches, and the request's context keys. */
export interface NeededPermission {
  action: string;
  resource: string;
  context?: Record<string, string>;
}

export const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** IAM's wildcard matching: * any run, ? one character. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function conditionHolds(condition: PolicyStatement['Condition'], context: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, wanted] of Object.entries(keys)) {
      const value = context[key];
      if (value === undefined) return false;
      const values = list(wanted);
      if (operator === 'StringEquals' && !values.includes(value)) return false;
      if (operator === 'StringLike' && !values.some((p) => globMatch(p, value))) return false;
      if (operator === 'Bool' && !values.includes(value)) return false;
      if (!['StringEquals', 'StringLike', 'Bool'].includes(operator)) throw new Error(`policy evaluator: condition operator ${operator} is not known here`);
    }
  }
  return true;
}

/** The statement that grants `need` (action names ignore case, resources do not), if any. */
export function allows(policy: PolicyDocument, need: NeededPermission): PolicyStatement | undefined {
  return policy.Statement.find(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => globMatch(a, need.action, true)) &&
      list(s.Resource).some((r) => globMatch(r, need.resource)) &&
      conditionHolds(s.Condition, need.context ?? {}),
  );
}

/** Every action a policy grants, sorted and unique. */
export function grantedActions(policy: PolicyDocument): string[] {
  return [...new Set(policy.Statement.flatMap((s) => list(s.Action)))].sort();
}
