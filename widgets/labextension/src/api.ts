/**
 * The panel's calls to the MatterHub server extension (`{baseUrl}matterhub/...`).
 *
 * `ServerConnection.makeRequest` adds Jupyter's token and XSRF headers, so the
 * handlers' `@tornado.web.authenticated` checks pass for the logged-in user only.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

export type Params = Record<string, string | number | string[] | undefined>;

export interface IBucket {
  value: string | number | boolean;
  count: number;
}

export interface IFacet {
  type: string;
  buckets: IBucket[];
  other?: number;
}

export interface IHit {
  id: string;
  kind: string;
  score: number | null;
  document: any;
}

export interface ISearchResult {
  query: string;
  total: number;
  offset: number;
  limit: number;
  hits: IHit[];
  facets: Record<string, IFacet>;
  warnings?: { field: string; message: string }[];
}

export interface IInfo {
  mode: 'embedded' | 'remote';
  location: string;
  principal: { user: string | null; groups: string[] };
  facets: string[];
}

export interface IEntry {
  name: string;
  kind: 'records' | 'file';
  output: string;
  records: number | null;
  length: number | null;
}

export interface IDatasetDetails {
  dataset: {
    source_id: string;
    source_name: string;
    version: number;
    status: string;
    owner: string;
    title: string;
    files: number;
    records: number;
    total_size: number;
  };
  metadata: any;
  files: { path: string; length: number; data_type?: string }[];
  n_files: number;
  entries: IEntry[];
}

export interface IServableDetails {
  id: string;
  version: number;
  owner: string;
  status: string;
  type: string;
  document: any;
  json_schema: { input?: any; output?: any; parameters?: any };
  /** The schema as a readable form: one row per input key, the output, each parameter. */
  form?: { name: string; type: string; units: string; description: string }[];
  example: { inputs: unknown; parameters: Record<string, unknown> };
}

export interface ISnippet {
  code: string;
  kind: string;
  id?: string;
  entry?: string | null;
}

/**
 * A refusal of the hub or of the server: `detail` says what went wrong.
 */
export class HubRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: any
  ) {
    super(message);
  }
}

/**
 * GET `{baseUrl}matterhub/<endpoint>?<params>` and parse its JSON answer.
 */
export async function requestAPI<T>(
  endpoint: string,
  params: Params = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '') {
      continue;
    }
    for (const item of Array.isArray(value) ? value : [value]) {
      query.append(key, String(item));
    }
  }
  const text = query.toString();
  const url = URLExt.join(settings.baseUrl, 'matterhub', endpoint) + (text ? `?${text}` : '');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, {}, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const raw = await response.text();
  let body: any = null;
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = { detail: raw };
    }
  }
  if (!response.ok) {
    const detail = (body && (body.detail || body.message)) || response.statusText;
    throw new HubRequestError(String(detail), response.status, body);
  }
  return body as T;
}
