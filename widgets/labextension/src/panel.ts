/**
 * The "MatterHub" side panel: search box, facets with counts, results, a record's or
 * dataset's details, servables, and "Insert code" buttons.
 *
 * Plain DOM in a Lumino widget; every value shown comes from the server extension,
 * which answers as the hub principal configured for this Jupyter server.
 */
import { Widget } from '@lumino/widgets';

import {
  HubRequestError,
  IDatasetDetails,
  IEntry,
  IFacet,
  IHit,
  IInfo,
  ISearchResult,
  IServableDetails,
  ISnippet,
  Params,
  requestAPI
} from './api';

/** Puts code into the active notebook (a new one when none is open). */
export type CodeInserter = (code: string) => Promise<void>;

/** Hits per page. */
const PAGE = 20;
/** Buckets shown per facet. */
const BUCKETS = 12;
/** What the panel searches (servables have their own view). */
const KINDS = ['dataset', 'record'];

const FACET_LABELS: Record<string, string> = {
  'mdf.resource_type': 'Kind',
  'mdf.source_name': 'Dataset',
  'material.elements': 'Elements',
  'files.data_type': 'Data type'
};

type Tag = keyof HTMLElementTagNameMap;

function el<K extends Tag>(
  tag: K,
  className = '',
  text?: string,
  attrs: Record<string, string> = {}
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  for (const [key, value] of Object.entries(attrs)) {
    node.setAttribute(key, value);
  }
  return node;
}

function button(label: string, className: string, onClick: () => void): HTMLButtonElement {
  const node = el('button', `jp-mod-styled mh-lab-button ${className}`, label, {
    type: 'button'
  });
  node.addEventListener('click', onClick);
  return node;
}

function get(doc: any, path: string): any {
  let value = doc;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) {
      return undefined;
    }
    value = Array.isArray(value) ? value[0]?.[key] : value[key];
  }
  return value;
}

function show(value: any): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (Array.isArray(value)) {
    return value.map(show).join(', ');
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? value.toLocaleString() : value.toPrecision(6);
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) {
    return '';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let size = n;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit++;
  }
  return `${unit ? size.toFixed(1) : size} ${units[unit]}`;
}

/** A hit's title: the dataset's title, or the record's formula or file name. */
export function hitTitle(hit: IHit): string {
  const doc = hit.document || {};
  if (hit.kind === 'dataset') {
    return get(doc, 'dc.titles.title') || hit.id;
  }
  return (
    get(doc, 'material.composition') ||
    get(doc, 'files.filename') ||
    get(doc, 'image.shape') ||
    hit.id
  );
}

export class MatterHubPanel extends Widget {
  constructor(private insert: CodeInserter | null) {
    super();
    this.id = 'matterhub-panel';
    this.addClass('mh-lab-panel');
    this.title.caption = 'MatterHub: search the hub, insert code';

    const header = el('div', 'mh-lab-header');
    header.append(el('span', 'mh-lab-brand', 'MatterHub'), this.infoNode);
    const tabs = el('div', 'mh-lab-tabs');
    this.dataTab = button('Data', 'mh-lab-tab-data mh-lab-mod-active', () => this.showView('data'));
    this.servableTab = button('Servables', 'mh-lab-tab-servables', () =>
      this.showView('servables')
    );
    tabs.append(this.dataTab, this.servableTab);
    this.node.append(header, tabs, this.errorNode, this.dataView, this.servableView);

    this.buildDataView();
    this.buildServableView();
    this.showView('data');
  }

  /** Load the hub's description and the first page of everything. */
  async start(): Promise<void> {
    try {
      const info = await requestAPI<IInfo>('info');
      this.info = info;
      const who = info.principal.user ?? 'anonymous';
      this.infoNode.textContent = `${info.mode} · ${who}`;
      this.infoNode.title = `${info.mode} hub ${info.location}, acting as ${who}`;
    } catch (error) {
      this.showError(error);
    }
    await this.search(0);
  }

  // -- the data view ------------------------------------------------------------------

  private buildDataView(): void {
    const form = el('form', 'mh-lab-search');
    this.queryInput.className = 'jp-mod-styled mh-lab-query';
    this.queryInput.type = 'search';
    this.queryInput.placeholder =
      'material.elements:O AND crystal_structure.space_group_number:167';
    this.queryInput.setAttribute('aria-label', 'MatterHub search query');
    form.append(
      this.queryInput,
      button('Search', 'mh-lab-search-button mh-lab-primary', () => form.requestSubmit())
    );
    form.addEventListener('submit', event => {
      event.preventDefault();
      this.filters = {};
      void this.search(0);
    });

    const bar = el('div', 'mh-lab-summary');
    bar.append(
      this.totalNode,
      button(
        'Insert search code',
        'mh-lab-insert-search',
        () =>
          void this.insertSnippet({
            kind: 'search',
            q: this.query,
            filters: JSON.stringify(this.filters),
            limit: PAGE
          })
      )
    );
    const paging = el('div', 'mh-lab-paging');
    this.prevButton = button(
      '‹ Previous',
      'mh-lab-prev',
      () => void this.search(this.offset - PAGE)
    );
    this.nextButton = button('Next ›', 'mh-lab-next', () => void this.search(this.offset + PAGE));
    paging.append(this.prevButton, this.nextButton);

    this.listView.append(bar, this.facetsNode, this.resultsNode, paging);
    this.dataView.append(form, this.listView, this.detailsNode);
  }

  private get query(): string {
    return this.queryInput.value.trim() || '*';
  }

  /** Run the search (query, ticked facets) from `offset`, and show it. */
  async search(offset: number): Promise<void> {
    const seq = ++this.searchSeq;
    this.clearError();
    this.showDetails(false);
    const params: Params = {
      q: this.query,
      filters: JSON.stringify(this.filters),
      limit: PAGE,
      offset: Math.max(0, offset),
      kind: KINDS
    };
    let result: ISearchResult;
    try {
      result = await requestAPI<ISearchResult>('search', params);
    } catch (error) {
      if (seq === this.searchSeq) {
        this.totalNode.textContent = '';
        this.resultsNode.replaceChildren();
        this.showError(error);
      }
      return;
    }
    if (seq !== this.searchSeq) {
      return; // a newer search answered first
    }
    this.offset = result.offset;
    this.renderResults(result);
    this.renderFacets(result.facets);
    this.node.dataset.searches = String(seq);
  }

  private renderResults(result: ISearchResult): void {
    const first = result.total ? result.offset + 1 : 0;
    const last = result.offset + result.hits.length;
    const notes = (result.warnings ?? []).map(w => w.message).join(' ');
    this.totalNode.textContent = `${result.total.toLocaleString()} results${notes ? ` · ${notes}` : ''}`;
    this.totalNode.dataset.total = String(result.total);
    this.totalNode.title = `showing ${first}–${last}`;
    this.prevButton.disabled = result.offset <= 0;
    this.nextButton.disabled = last >= result.total;
    const rows = result.hits.map(hit => {
      const row = el('li', `mh-lab-hit mh-lab-kind-${hit.kind}`, undefined, {
        'data-id': hit.id,
        'data-kind': hit.kind,
        tabindex: '0',
        title: `Show ${hit.id}`
      });
      row.append(
        el('span', 'mh-lab-badge', hit.kind),
        el('span', 'mh-lab-hit-title', hitTitle(hit)),
        el('span', 'mh-lab-hit-id', hit.id)
      );
      const open = () => void this.openHit(hit);
      row.addEventListener('click', open);
      row.addEventListener('keydown', event => {
        if (event.key === 'Enter') {
          open();
        }
      });
      return row;
    });
    this.resultsNode.replaceChildren(...rows);
    if (!rows.length) {
      this.resultsNode.append(el('li', 'mh-lab-empty', 'Nothing found (as this hub user).'));
    }
  }

  private renderFacets(facets: Record<string, IFacet>): void {
    const groups: HTMLElement[] = [];
    for (const [field, facet] of Object.entries(facets)) {
      const buckets = (facet.buckets || []).slice(0, BUCKETS);
      const ticked = new Set((this.filters[field] || []).map(String));
      if (!buckets.length && !ticked.size) {
        continue;
      }
      const group = el(
        'details',
        `mh-lab-facet mh-lab-facet-${field.replace(/\W+/g, '-')}`,
        undefined,
        {
          'data-field': field
        }
      );
      group.open = true;
      group.append(el('summary', 'mh-lab-facet-name', FACET_LABELS[field] ?? field));
      for (const bucket of buckets) {
        const value = String(bucket.value);
        const label = el('label', 'mh-lab-bucket', undefined, { 'data-value': value });
        const box = el('input', 'mh-lab-bucket-check') as HTMLInputElement;
        box.type = 'checkbox';
        box.checked = ticked.has(value);
        box.addEventListener('change', () => this.toggleFilter(field, value, box.checked));
        label.append(
          box,
          el('span', 'mh-lab-bucket-value', value),
          el('span', 'mh-lab-bucket-count', bucket.count.toLocaleString())
        );
        group.append(label);
      }
      groups.push(group);
    }
    this.facetsNode.replaceChildren(...groups);
  }

  private toggleFilter(field: string, value: string, on: boolean): void {
    const values = new Set(this.filters[field] || []);
    if (on) {
      values.add(value);
    } else {
      values.delete(value);
    }
    if (values.size) {
      this.filters[field] = [...values];
    } else {
      delete this.filters[field];
    }
    void this.search(0);
  }

  // -- details ------------------------------------------------------------------------

  private async openHit(hit: IHit): Promise<void> {
    this.clearError();
    try {
      if (hit.kind === 'dataset') {
        const details = await requestAPI<IDatasetDetails>('dataset', { id: hit.id });
        this.renderDataset(details);
      } else {
        const record = await requestAPI<any>('record', { id: hit.id });
        this.renderRecord(hit.id, record);
      }
    } catch (error) {
      this.showError(error);
    }
  }

  private detailsFrame(kind: string, id: string, title: string): HTMLElement {
    const back = button('‹ Results', 'mh-lab-back', () => this.showDetails(false));
    const head = el('div', 'mh-lab-details-head');
    head.append(back, el('span', 'mh-lab-badge', kind));
    const node = el('div', 'mh-lab-details-body', undefined, { 'data-id': id, 'data-kind': kind });
    node.append(head, el('h3', 'mh-lab-details-title', title), el('code', 'mh-lab-details-id', id));
    this.detailsNode.replaceChildren(node);
    this.showDetails(true);
    return node;
  }

  private table(rows: [string, any][]): HTMLTableElement {
    const table = el('table', 'mh-lab-fields');
    for (const [name, value] of rows) {
      const text = show(value);
      if (!text) {
        continue;
      }
      const tr = el('tr');
      tr.append(el('th', '', name), el('td', '', text));
      table.append(tr);
    }
    return table;
  }

  /** A servable's schema as a form people read: name, type in words, units, what it is. */
  private formTable(
    rows: { name: string; type: string; units: string; description: string }[]
  ): HTMLTableElement {
    const table = el('table', 'mh-lab-fields mh-lab-schema');
    for (const row of rows) {
      const tr = el('tr');
      const what = el('td', '', row.type);
      if (row.description) {
        what.append(el('div', 'mh-lab-schema-note', row.description));
      }
      tr.append(el('th', '', row.name), what);
      table.append(tr);
    }
    return table;
  }

  private renderDataset(details: IDatasetDetails): void {
    const ds = details.dataset;
    const dc = details.metadata?.dc ?? {};
    const node = this.detailsFrame('dataset', ds.source_id, ds.title);
    const authors = (dc.creators || []).map((c: any) => c.name);
    const description = (dc.descriptions || []).map((d: any) => d.description).join(' ');
    node.append(
      this.table([
        ['Authors', authors],
        ['Version', ds.version],
        ['Owner', ds.owner],
        ['Status', ds.status],
        ['Records', ds.records],
        ['Files', ds.files],
        ['Size', bytes(ds.total_size)],
        ['Year', dc.publicationYear],
        ['Description', description]
      ])
    );

    const load = el('div', 'mh-lab-load');
    load.append(el('h4', '', 'Load in a notebook'));
    const select = el('select', 'jp-mod-styled mh-lab-entry') as HTMLSelectElement;
    select.setAttribute('aria-label', 'Catalog entry');
    for (const entry of details.entries) {
      select.append(el('option', '', this.entryLabel(entry), { value: entry.name }));
    }
    const insert = button(
      'Insert code',
      'mh-lab-insert mh-lab-primary',
      () =>
        void this.insertSnippet({
          kind: 'dataset',
          id: ds.source_id,
          entry: select.value || undefined
        })
    );
    insert.disabled = !this.insert;
    load.append(select, insert);
    node.append(load);

    if (details.files.length) {
      const files = el('details', 'mh-lab-files');
      files.append(el('summary', '', `Files (${details.n_files})`));
      const list = el('ul');
      for (const f of details.files) {
        list.append(
          el('li', '', `${f.path} · ${bytes(f.length)}${f.data_type ? ' · ' + f.data_type : ''}`)
        );
      }
      files.append(list);
      node.append(files);
    }
  }

  private entryLabel(entry: IEntry): string {
    const output = entry.output.split(':').pop() || entry.output;
    if (entry.kind === 'records') {
      return `${entry.name} (${entry.records ?? '?'} records, ${output})`;
    }
    return `${entry.name} (${output})`;
  }

  private renderRecord(id: string, record: any): void {
    const title = hitTitle({ id, kind: 'record', score: null, document: record });
    const node = this.detailsFrame('record', id, title);
    const cs = record.crystal_structure ?? {};
    const dft = record.dft ?? {};
    node.append(
      this.table([
        ['Dataset', get(record, 'mdf.source_id')],
        ['Composition', get(record, 'material.composition')],
        ['Elements', get(record, 'material.elements')],
        [
          'Space group',
          cs.space_group_number ? `${cs.space_group_symbol ?? ''} (${cs.space_group_number})` : ''
        ],
        ['Atoms', cs.number_of_atoms],
        ['Volume (Å³)', cs.volume],
        ['DFT code', dft.code],
        ['Total energy (eV)', dft.total_energy],
        ['Image', get(record, 'image.shape')],
        ['Files', (record.files || []).map((f: any) => f.path)]
      ])
    );
    const sourceId = get(record, 'mdf.source_id');
    const actions = el('div', 'mh-lab-load');
    const insertRecord = button(
      'Insert code',
      'mh-lab-insert mh-lab-primary',
      () => void this.insertSnippet({ kind: 'record', id })
    );
    const insertDataset = button(
      'Insert code for its dataset',
      'mh-lab-insert-dataset',
      () => void this.insertSnippet({ kind: 'dataset', id: sourceId })
    );
    insertRecord.disabled = insertDataset.disabled = !this.insert;
    actions.append(insertRecord, insertDataset);
    node.append(actions);
    const raw = el('details', 'mh-lab-raw');
    raw.append(el('summary', '', 'Record (JSON)'), el('pre', '', JSON.stringify(record, null, 1)));
    node.append(raw);
  }

  // -- servables ----------------------------------------------------------------------

  private buildServableView(): void {
    const form = el('form', 'mh-lab-search');
    this.servableQuery.className = 'jp-mod-styled mh-lab-servable-query';
    this.servableQuery.type = 'search';
    this.servableQuery.placeholder = 'Search servables';
    this.servableQuery.setAttribute('aria-label', 'MatterHub servable query');
    form.append(
      this.servableQuery,
      button('Search', 'mh-lab-primary', () => form.requestSubmit())
    );
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.searchServables();
    });
    this.servableView.append(form, this.servableList, this.servableDetails);
  }

  async searchServables(): Promise<void> {
    this.clearError();
    this.servableDetails.replaceChildren();
    try {
      const result = await requestAPI<ISearchResult>('servables', {
        q: this.servableQuery.value.trim() || '*',
        limit: PAGE
      });
      const rows = result.hits.map(hit => {
        const title = get(hit.document, 'datacite.titles.title') || hit.id;
        const row = el('li', 'mh-lab-hit mh-lab-kind-servable', undefined, {
          'data-id': hit.id,
          tabindex: '0'
        });
        row.append(el('span', 'mh-lab-hit-title', title), el('span', 'mh-lab-hit-id', hit.id));
        row.addEventListener('click', () => void this.openServable(hit.id));
        return row;
      });
      this.servableList.replaceChildren(...rows);
      if (!rows.length) {
        this.servableList.append(el('li', 'mh-lab-empty', 'No servables (as this hub user).'));
      }
    } catch (error) {
      this.showError(error);
    }
  }

  private async openServable(name: string): Promise<void> {
    this.clearError();
    let sv: IServableDetails;
    try {
      sv = await requestAPI<IServableDetails>('servable', { name });
    } catch (error) {
      this.showError(error);
      return;
    }
    const doc = sv.document || {};
    const node = el('div', 'mh-lab-details-body', undefined, {
      'data-id': sv.id,
      'data-kind': 'servable'
    });
    node.append(
      el('h3', 'mh-lab-details-title', get(doc, 'datacite.titles.title') || sv.id),
      el('code', 'mh-lab-details-id', `${sv.id} (v${sv.version})`),
      this.table([
        ['Type', sv.type],
        ['Status', sv.status],
        ['Summary', get(doc, 'servable.model_summary')],
        ['Description', get(doc, 'datacite.descriptions.description')]
      ]),
      this.formTable(sv.form ?? [])
    );
    const inputs = el('textarea', 'jp-mod-styled mh-lab-inputs', undefined, {
      'aria-label': 'Servable inputs (JSON)',
      rows: '3'
    }) as HTMLTextAreaElement;
    inputs.value = JSON.stringify(sv.example.inputs);
    const params = el('textarea', 'jp-mod-styled mh-lab-parameters', undefined, {
      'aria-label': 'Servable parameters (JSON)',
      rows: '2'
    }) as HTMLTextAreaElement;
    params.value = JSON.stringify(sv.example.parameters ?? {});
    const insert = button('Insert code', 'mh-lab-insert mh-lab-primary', () => {
      const parameters = params.value.trim();
      void this.insertSnippet({
        kind: 'servable',
        name: sv.id,
        inputs: inputs.value.trim() || 'null',
        parameters: parameters && parameters !== '{}' ? parameters : undefined
      });
    });
    insert.disabled = !this.insert;
    node.append(el('label', 'mh-lab-label', 'Inputs (JSON)'), inputs);
    node.append(el('label', 'mh-lab-label', 'Parameters (JSON)'), params, insert);
    this.servableDetails.replaceChildren(node);
  }

  // -- code for the notebook ---------------------------------------------------------------

  private async insertSnippet(params: Params): Promise<void> {
    if (!this.insert) {
      return;
    }
    this.clearError();
    try {
      const snippet = await requestAPI<ISnippet>('snippet', params);
      await this.insert(snippet.code);
      this.node.dataset.inserted = String(Number(this.node.dataset.inserted || '0') + 1);
    } catch (error) {
      this.showError(error);
    }
  }

  // -- plumbing ------------------------------------------------------------------------------

  private showView(view: 'data' | 'servables'): void {
    const data = view === 'data';
    this.dataView.hidden = !data;
    this.servableView.hidden = data;
    this.dataTab.classList.toggle('mh-lab-mod-active', data);
    this.servableTab.classList.toggle('mh-lab-mod-active', !data);
    if (!data && !this.servablesLoaded) {
      this.servablesLoaded = true;
      void this.searchServables();
    }
  }

  private showDetails(on: boolean): void {
    this.detailsNode.hidden = !on;
    this.listView.hidden = on;
  }

  private showError(error: unknown): void {
    let text = error instanceof Error ? error.message : String(error);
    if (error instanceof HubRequestError) {
      const body = error.body || {};
      const where = typeof body.position === 'number' ? ` (at character ${body.position})` : '';
      text = `${body.title || 'Error'} (${error.status}): ${error.message}${where}`;
    }
    this.errorNode.textContent = text;
    this.errorNode.hidden = false;
  }

  private clearError(): void {
    this.errorNode.textContent = '';
    this.errorNode.hidden = true;
  }

  info: IInfo | null = null;
  private filters: Record<string, string[]> = {};
  private offset = 0;
  private searchSeq = 0;
  private servablesLoaded = false;
  private infoNode = el('span', 'mh-lab-info');
  private errorNode = el('div', 'mh-lab-error', undefined, { role: 'alert' });
  private dataTab: HTMLButtonElement;
  private servableTab: HTMLButtonElement;
  private dataView = el('div', 'mh-lab-view mh-lab-data');
  private servableView = el('div', 'mh-lab-view mh-lab-servables');
  private queryInput = el('input') as HTMLInputElement;
  private totalNode = el('span', 'mh-lab-total');
  private facetsNode = el('div', 'mh-lab-facets');
  private resultsNode = el('ul', 'mh-lab-results');
  private listView = el('div', 'mh-lab-list');
  private detailsNode = el('div', 'mh-lab-details');
  private prevButton!: HTMLButtonElement;
  private nextButton!: HTMLButtonElement;
  private servableQuery = el('input') as HTMLInputElement;
  private servableList = el('ul', 'mh-lab-results mh-lab-servable-results');
  private servableDetails = el('div', 'mh-lab-details mh-lab-servable-details');
}
