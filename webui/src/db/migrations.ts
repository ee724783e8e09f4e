import { Migration } from '@mikro-orm/migrations';

export type Dialect = 'sqlite' | 'postgresql';

/**
 * Versioned schema migrations, applied at startup in order and recorded in
 * `mikro_orm_migrations`. Plain classes (no decorators). Never edit a
 * migration that has shipped; add a new one.
 *
 * The SQL is written to run unchanged on SQLite and Postgres.
 */
class Initial extends Migration {
  override name = '0001_initial';
  up(): void {
    this.addSql(`create table users (
      id varchar(64) primary key,
      email varchar(320) not null unique,
      name varchar(255) not null,
      role varchar(16) not null,
      password_hash varchar(255) not null,
      profile_image_url text not null,
      created_at bigint not null,
      updated_at bigint not null,
      last_active_at bigint not null
    )`);
    this.addSql(`create table config (
      key varchar(128) primary key,
      value text not null,
      origin varchar(16) not null,
      updated_at bigint not null
    )`);
    this.addSql(`create table config_resets (
      token varchar(255) primary key,
      applied_at bigint not null
    )`);
    this.addSql(`create table chats (
      id varchar(64) primary key,
      user_id varchar(64) not null,
      title text not null,
      chat text not null,
      created_at bigint not null,
      updated_at bigint not null
    )`);
    this.addSql('create index chats_user_id_updated_at on chats (user_id, updated_at)');
  }
}

/** Sign-in attempts in the database, so every replica enforces one shared limit. */
class SigninAttempts extends Migration {
  override name = '0002_signin_attempts';
  up(): void {
    this.addSql(`create table signin_attempts (
      id varchar(32) primary key,
      key_hash varchar(64) not null,
      at bigint not null
    )`);
    this.addSql('create index signin_attempts_key_hash_at on signin_attempts (key_hash, at)');
    this.addSql('create index signin_attempts_at on signin_attempts (at)');
  }
}

/**
 * Each attempt carries its own expiry, so limiters with different windows
 * (sign-in, sign-up) can share the table without one's sweep deleting the
 * other's attempts. Rows from before have 0 and are swept at once.
 */
class AttemptExpiry extends Migration {
  override name = '0003_attempt_expiry';
  up(): void {
    this.addSql('alter table signin_attempts add column expires_at bigint not null default 0');
    this.addSql('create index signin_attempts_expires_at on signin_attempts (expires_at)');
    this.addSql('drop index signin_attempts_at');
  }
}

/** Revocable sessions: see UserEntity.tokenVersion. Existing tokens carry no version and count as 0. */
class TokenVersion extends Migration {
  override name = '0004_token_version';
  up(): void {
    this.addSql('alter table users add column token_version integer not null default 0');
  }
}

/** The ordered list handed to the migrator. */
export function migrationsList(_dialect: Dialect) {
  return [
    { name: '0001_initial', class: Initial },
    { name: '0002_signin_attempts', class: SigninAttempts },
    { name: '0003_attempt_expiry', class: AttemptExpiry },
    { name: '0004_token_version', class: TokenVersion },
  ];
}
