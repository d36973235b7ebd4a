import { config as readDotenv } from 'dotenv';

/** Reads `.env` from the working directory into process.env; real environment variables win. */
export function loadDotenv(): void {
  readDotenv({ quiet: true });
}
