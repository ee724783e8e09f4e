import type { EntityManager } from '@mikro-orm/sql';
import type { ConfigStore } from '../../config/store.ts';
import { countUsers } from '../../db/users.ts';
import { signupOpen } from './signup-policy.ts';

/** Whether public signup is open right now (see auth/signup-policy.ts). */
export async function isSignupOpen(
  svc: { config: Pick<ConfigStore, 'explain' | 'get'> },
  em: EntityManager,
): Promise<boolean> {
  const e = svc.config.explain('enableSignup');
  return signupOpen({
    userCount: await countUsers(em),
    enableSignup: { value: e.value, explicit: e.explicit },
    enableLoginForm: svc.config.get('enableLoginForm'),
  });
}
