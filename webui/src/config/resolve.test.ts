import { describe, expect, it } from 'vitest';
import { resolveSetting } from './resolve.ts';

const admin = (value: unknown) => ({ value, origin: 'admin' as const, updatedAt: 1 });
const system = (value: unknown) => ({ value, origin: 'system' as const, updatedAt: 1 });

describe('resolveSetting', () => {
  it('uses the default when nothing else is given', () => {
    expect(
      resolveSetting<'defaultUserRole'>({ default: 'pending', managed: false, persistent: true }),
    ).toEqual({
      value: 'pending',
      source: 'default',
      explicit: false,
    });
  });

  it('env beats the default', () => {
    const r = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      env: { value: 'user' },
      managed: false,
      persistent: true,
    });
    expect(r).toEqual({ value: 'user', source: 'env', explicit: true });
  });

  it("an admin's saved value beats env while persistent config is on (Open WebUI precedence)", () => {
    const r = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      env: { value: 'user' },
      saved: admin('admin'),
      managed: false,
      persistent: true,
    });
    expect(r).toEqual({ value: 'admin', source: 'saved', explicit: true });
  });

  it('an automatic (system) write loses to an explicit env value but beats the default', () => {
    const withEnv = resolveSetting<'enableSignup'>({
      default: true,
      env: { value: true },
      saved: system(false),
      managed: false,
      persistent: true,
    });
    expect(withEnv).toMatchObject({ value: true, source: 'env' });
    const withoutEnv = resolveSetting<'enableSignup'>({
      default: true,
      saved: system(false),
      managed: false,
      persistent: true,
    });
    expect(withoutEnv).toMatchObject({ value: false, source: 'saved' });
  });

  it('ignores saved values when ENABLE_PERSISTENT_CONFIG=false', () => {
    const r = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      env: { value: 'user' },
      saved: admin('admin'),
      managed: false,
      persistent: false,
    });
    expect(r).toEqual({ value: 'user', source: 'env', explicit: true });
    const noEnv = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      saved: admin('admin'),
      managed: false,
      persistent: false,
    });
    expect(noEnv.source).toBe('default');
  });

  it('a managed setting always comes from env, whatever was saved', () => {
    const r = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      env: { value: 'user' },
      saved: admin('admin'),
      managed: true,
      persistent: true,
    });
    expect(r).toEqual({ value: 'user', source: 'managed', explicit: true });
    const unset = resolveSetting<'defaultUserRole'>({
      default: 'pending',
      saved: admin('admin'),
      managed: true,
      persistent: true,
    });
    expect(unset).toEqual({ value: 'pending', source: 'managed', explicit: false });
  });
});
