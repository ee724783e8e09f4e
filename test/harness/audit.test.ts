import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AUDITED_VERBS, parseAuditLog, renderAuditPolicy } from './audit.ts';

const event = (verb: string, name: string) =>
  JSON.stringify({
    kind: 'Event',
    auditID: name,
    stage: 'ResponseComplete',
    verb,
    requestURI: `/api/v1/namespaces/default/configmaps/${name}`,
    user: { username: 'admin' },
    objectRef: { resource: 'configmaps', namespace: 'default', name },
    responseStatus: { code: 201 },
    requestReceivedTimestamp: '2026-11-24T15:00:00.000000Z',
  });

describe('audit log', () => {
  it('parses JSON lines and ignores a partly written last line', () => {
    const text = `${event('create', 'a')}\n${event('delete', 'b')}\n{"kind":"Eve`;
    const events = parseAuditLog(text);
    expect(events.map((e) => [e.verb, e.objectRef?.name])).toEqual([
      ['create', 'a'],
      ['delete', 'b'],
    ]);
  });

  it('rejects a corrupt line in the middle', () => {
    expect(() => parseAuditLog(`not json\n${event('create', 'a')}\n`)).toThrow(/line 1/);
  });

  it('returns nothing for an empty log', () => {
    expect(parseAuditLog('')).toEqual([]);
  });

  it('audits writes at Metadata level and nothing else', () => {
    const policy = parse(renderAuditPolicy()) as {
      kind: string;
      rules: { level: string; verbs?: string[] }[];
    };
    expect(policy.kind).toBe('Policy');
    expect(policy.rules[0]).toEqual({ level: 'Metadata', verbs: [...AUDITED_VERBS] });
    expect(policy.rules.at(-1)).toEqual({ level: 'None' });
    expect(AUDITED_VERBS).not.toContain('get');
  });
});
