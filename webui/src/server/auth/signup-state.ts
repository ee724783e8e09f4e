import type { EntityManager } from '@mikro-orm/sql';
import { countUsers } from '../../db/users.ts';
import type { Services } from '../services.ts';
import { signupOpen } from './signup-policy.ts';

/** Whether public signup is open right now (see auth/signup-policy.ts). */
export async function isSignupOpen(svc: Services, em: EntityManager): Promise<boolean> {
  const e = svc.config.explain('enableSignup');
  return signupOpen({
    userCount: await countUsers(em),
    enableSignup: { value: e.value, explicit: e.explicit },
    enableLoginForm: svc.config.get('enableLoginForm'),
  });
}
