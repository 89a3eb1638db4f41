// Read-only access to a foreman database from tests (WAL lets us read while foreman writes).
import { Database } from "bun:sqlite";

export function readJobs(dbPath: string): any[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query("SELECT * FROM jobs ORDER BY id").all();
  } finally {
    db.close();
  }
}

export function readJob(dbPath: string, id: string): any {
  return readJobs(dbPath).find((j) => j.id === id) ?? null;
}

export function readArtifacts(dbPath: string, jobId: string): any[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query("SELECT job_id, name, content_type, size, CAST(data AS TEXT) AS text FROM artifacts WHERE job_id = ?").all(jobId);
  } finally {
    db.close();
  }
}
