import type { EntityManager } from 'typeorm';

/**
 * Where a repository method runs its statements: the DataSource (a statement of its own), or the
 * EntityManager or QueryRunner of a caller's transaction (a periodic pass under its lock, a use
 * case that commits several repositories' writes together).
 *
 * TypeORM's query answers the rows of a SELECT, and [rows, affected] of an UPDATE or DELETE.
 */
export type SqlExecutor = Pick<EntityManager, 'query'>;
