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

/** The ordered list handed to the migrator. */
export function migrationsList(_dialect: Dialect) {
  return [{ name: '0001_initial', class: Initial }];
}
